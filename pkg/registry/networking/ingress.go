package networking

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
)

// ingressClassAnnotation is the deprecated way to pick an IngressClass.
const ingressClassAnnotation = "kubernetes.io/ingress.class"

// Ingresses is networking.k8s.io/v1 ingresses.
func Ingresses() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "ingresses", Kind: "Ingress", SingularName: "ingress",
		ShortNames: []string{"ing"}, Namespaced: true,
		New:       func() runtime.Object { return &networkingv1.Ingress{} },
		NewList:   func() runtime.Object { return &networkingv1.IngressList{} },
		KeyPrefix: "ingress",
		Status:    true,
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				ing := obj.(*networkingv1.Ingress)
				errs := validateIngressSpec(&ing.Spec, ingressRules{})
				if v, ok := ing.Annotations[ingressClassAnnotation]; ok && ing.Spec.IngressClassName != nil && v != *ing.Spec.IngressClassName {
					errs = append(errs, field.Invalid(field.NewPath("annotations").Child(ingressClassAnnotation), v, "must match `ingressClassName` when both are specified"))
				}
				return errs
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				ing, oi := obj.(*networkingv1.Ingress), old.(*networkingv1.Ingress)
				return validateIngressSpec(&ing.Spec, ingressRulesFor(oi))
			},
			StatusValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateIngressStatus(&obj.(*networkingv1.Ingress).Status, &old.(*networkingv1.Ingress).Status)
			},
		},
		Table: ingressTable(),
	}
}

// ingressRules relax validation for objects stored under older rules.
type ingressRules struct {
	allowInvalidSecretName, allowInvalidWildcardHostRule bool
}

func ingressRulesFor(old *networkingv1.Ingress) ingressRules {
	var r ingressRules
	for _, tls := range old.Spec.TLS {
		if len(validateTLSSecretName(tls.SecretName)) > 0 {
			r.allowInvalidSecretName = true
		}
	}
	for _, rule := range old.Spec.Rules {
		if strings.Contains(rule.Host, "*") && len(validateRuleValue(&rule.IngressRuleValue, field.NewPath(""), ingressRules{})) > 0 {
			r.allowInvalidWildcardHostRule = true
		}
	}
	return r
}

func validateIngressSpec(spec *networkingv1.IngressSpec, r ingressRules) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(fld, badvalue.Internal(spec.Rules), "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateBackend(spec.DefaultBackend, fld.Child("defaultBackend"))...)
	}
	for i, rule := range spec.Rules {
		rf := fld.Child("rules").Index(i)
		wildcard := false
		if rule.Host != "" {
			if netutils.ParseIPSloppy(rule.Host) != nil {
				errs = append(errs, field.Invalid(rf.Child("host"), rule.Host, "must be a DNS name, not an IP address"))
			}
			check := validation.IsDNS1123Subdomain
			if strings.Contains(rule.Host, "*") {
				check, wildcard = validation.IsWildcardDNS1123Subdomain, true
			}
			for _, msg := range check(rule.Host) {
				errs = append(errs, field.Invalid(rf.Child("host"), rule.Host, msg))
			}
		}
		if !wildcard || !r.allowInvalidWildcardHostRule {
			errs = append(errs, validateRuleValue(&rule.IngressRuleValue, rf, r)...)
		}
	}
	for i, tls := range spec.TLS {
		tf := fld.Child("tls").Index(i)
		for j, host := range tls.Hosts {
			check := validation.IsDNS1123Subdomain
			if strings.Contains(host, "*") {
				check = validation.IsWildcardDNS1123Subdomain
			}
			for _, msg := range check(host) {
				errs = append(errs, field.Invalid(tf.Child("hosts").Index(j), host, msg))
			}
		}
		if !r.allowInvalidSecretName {
			for _, msg := range validateTLSSecretName(tls.SecretName) {
				errs = append(errs, field.Invalid(tf.Child("secretName"), tls.SecretName, msg))
			}
		}
	}
	if spec.IngressClassName != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*spec.IngressClassName, false) {
			errs = append(errs, field.Invalid(fld.Child("ingressClassName"), *spec.IngressClassName, msg))
		}
	}
	return errs
}

func validateTLSSecretName(name string) []string {
	if name == "" {
		return nil
	}
	return apivalidation.NameIsDNSSubdomain(name, false)
}

func validateRuleValue(v *networkingv1.IngressRuleValue, fld *field.Path, _ ingressRules) field.ErrorList {
	if v.HTTP == nil {
		return nil
	}
	hf := fld.Child("http")
	var errs field.ErrorList
	if len(v.HTTP.Paths) == 0 {
		errs = append(errs, field.Required(hf.Child("paths"), ""))
	}
	for i := range v.HTTP.Paths {
		errs = append(errs, validateHTTPPath(&v.HTTP.Paths[i], hf.Child("paths").Index(i))...)
	}
	return errs
}

var pathTypes = []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypeImplementationSpecific, networkingv1.PathTypePrefix}

func validateHTTPPath(p *networkingv1.HTTPIngressPath, fld *field.Path) field.ErrorList {
	if p.PathType == nil {
		return field.ErrorList{field.Required(fld.Child("pathType"), "pathType must be specified")}
	}
	var errs field.ErrorList
	pf := fld.Child("path")
	switch *p.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, field.Invalid(pf, p.Path, "must be an absolute path"))
		}
		if p.Path != "" {
			for _, seq := range []string{"//", "/./", "/../", "%2f", "%2F"} {
				if strings.Contains(p.Path, seq) {
					errs = append(errs, field.Invalid(pf, p.Path, fmt.Sprintf("must not contain '%s'", seq)))
				}
			}
			for _, suffix := range []string{"/..", "/."} {
				if strings.HasSuffix(p.Path, suffix) {
					errs = append(errs, field.Invalid(pf, p.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
				}
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, field.Invalid(pf, p.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(fld.Child("pathType"), *p.PathType, pathTypes))
	}
	return append(errs, validateBackend(&p.Backend, fld.Child("backend"))...)
}

// validateBackend: exactly one of a service (by name, with a port name or
// number) or a typed resource.
func validateBackend(b *networkingv1.IngressBackend, fld *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(fld, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		return validateTypedReference(b.Resource.APIGroup, b.Resource.Kind, b.Resource.Name, fld.Child("resource"))
	case b.Service == nil:
		return field.ErrorList{field.Invalid(fld, "", "resource or service backend is required")}
	}
	var errs field.ErrorList
	sf := fld.Child("service")
	if b.Service.Name == "" {
		errs = append(errs, field.Required(sf.Child("name"), ""))
	} else {
		for _, msg := range apivalidation.NameIsDNS1035Label(b.Service.Name, false) {
			errs = append(errs, field.Invalid(sf.Child("name"), b.Service.Name, msg))
		}
	}
	port := b.Service.Port
	switch {
	case port.Name != "" && port.Number != 0:
		errs = append(errs, field.Invalid(fld, "", "cannot set both port name & port number"))
	case port.Name != "":
		for _, msg := range validation.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(sf.Child("port", "name"), port.Name, msg))
		}
	case port.Number != 0:
		for _, msg := range validation.IsValidPortNum(int(port.Number)) {
			errs = append(errs, field.Invalid(sf.Child("port", "number"), port.Number, msg))
		}
	default:
		errs = append(errs, field.Required(fld, "port name or number is required"))
	}
	return errs
}

func validateTypedReference(apiGroup *string, kind, name string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if apiGroup != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*apiGroup) {
			errs = append(errs, field.Invalid(fld.Child("apiGroup"), *apiGroup, msg))
		}
	}
	errs = append(errs, requiredPathSegment(kind, fld.Child("kind"))...)
	return append(errs, requiredPathSegment(name, fld.Child("name"))...)
}

// requiredPathSegment checks a name that ends up in a URL path.
func requiredPathSegment(v string, fld *field.Path) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	var errs field.ErrorList
	for _, msg := range pathvalidation.IsValidPathSegmentName(v) {
		errs = append(errs, field.Invalid(fld, v, msg))
	}
	return errs
}

func validateIngressStatus(s, old *networkingv1.IngressStatus) field.ErrorList {
	fld := field.NewPath("status", "loadBalancer")
	var oldIPs []string
	for _, i := range old.LoadBalancer.Ingress {
		if i.IP != "" {
			oldIPs = append(oldIPs, i.IP)
		}
	}
	var errs field.ErrorList
	for i, ing := range s.LoadBalancer.Ingress {
		f := fld.Child("ingress").Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIPForLegacyField(f.Child("ip"), ing.IP, false, oldIPs)...)
		}
		if ing.Hostname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(ing.Hostname) {
				errs = append(errs, field.Invalid(f.Child("hostname"), ing.Hostname, msg))
			}
			if netutils.ParseIPSloppy(ing.Hostname) != nil {
				errs = append(errs, field.Invalid(f.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}

func ingressTable() *registry.Table {
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration", 0),
			registry.Col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule", 0),
			registry.Col("Address", "string", "Address is a list containing ingress points for the load-balancer", 0),
			registry.Col("Ports", "string", "Ports of TLS configurations that open", 0),
			registry.AgeColumn,
		},
		Cells: func(obj runtime.Object) []interface{} {
			ing := obj.(*networkingv1.Ingress)
			class := "<none>"
			if ing.Spec.IngressClassName != nil {
				class = *ing.Spec.IngressClassName
			}
			ports := "80"
			if len(ing.Spec.TLS) > 0 {
				ports = "80, 443"
			}
			// The server prints the wide form, which never shortens the address.
			return []interface{}{ing.Name, class, ingressHosts(ing.Spec.Rules), ingressAddress(ing.Status.LoadBalancer),
				ports, registry.Age(ing.CreationTimestamp)}
		},
	}
}

// ingressHosts lists the first three hosts, "*" when no rule names one.
func ingressHosts(rules []networkingv1.IngressRule) string {
	const shown = 3
	var list []string
	more := false
	for _, r := range rules {
		if len(list) == shown {
			more = true
		}
		if !more && r.Host != "" {
			list = append(list, r.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	if more {
		return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), len(rules)-shown)
	}
	return strings.Join(list, ",")
}

func ingressAddress(s networkingv1.IngressLoadBalancerStatus) string {
	seen := map[string]bool{}
	var list []string
	for _, i := range s.Ingress {
		a := i.IP
		if a == "" {
			a = i.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			list = append(list, a)
		}
	}
	sort.Strings(list)
	return strings.Join(list, ",")
}
