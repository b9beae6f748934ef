package networking

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/minik8s/minik8s/pkg/registry"
)

// NetworkPolicies is networking.k8s.io/v1 networkpolicies.
func NetworkPolicies() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "networkpolicies", Kind: "NetworkPolicy", SingularName: "networkpolicy",
		ShortNames: []string{"netpol"}, Namespaced: true,
		New:       func() runtime.Object { return &networkingv1.NetworkPolicy{} },
		NewList:   func() runtime.Object { return &networkingv1.NetworkPolicyList{} },
		KeyPrefix: "networkpolicies",
		Strategy: &registry.Generic{
			Defaults: defaultNetworkPolicy,
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateNetworkPolicySpec(&obj.(*networkingv1.NetworkPolicy).Spec, policyRules{})
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateNetworkPolicySpec(&obj.(*networkingv1.NetworkPolicy).Spec, policyRulesFor(old.(*networkingv1.NetworkPolicy)))
			},
			NoStatusSplit: true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Pod-Selector", "string", networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				np := obj.(*networkingv1.NetworkPolicy)
				return []interface{}{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), registry.Age(np.CreationTimestamp)}
			},
		},
	}
}

func defaultNetworkPolicy(obj runtime.Object) {
	np := obj.(*networkingv1.NetworkPolicy)
	tcp := func(ports []networkingv1.NetworkPolicyPort) {
		for i := range ports {
			if ports[i].Protocol == nil {
				p := corev1.ProtocolTCP
				ports[i].Protocol = &p
			}
		}
	}
	for i := range np.Spec.Ingress {
		tcp(np.Spec.Ingress[i].Ports)
	}
	for i := range np.Spec.Egress {
		tcp(np.Spec.Egress[i].Ports)
	}
	// A policy naming no types is an ingress policy, and an egress one too if it
	// has egress rules.
	if len(np.Spec.PolicyTypes) == 0 {
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) != 0 {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
}

// policyRules relax validation for a stored policy: its selector and CIDRs
// may predate today's stricter checks.
type policyRules struct {
	selector metavalidation.LabelSelectorValidationOptions
	oldCIDRs []string
}

func policyRulesFor(old *networkingv1.NetworkPolicy) policyRules {
	var r policyRules
	if len(metavalidation.ValidateLabelSelector(&old.Spec.PodSelector, r.selector, nil)) > 0 {
		r.selector.AllowInvalidLabelValueInSelector = true
	}
	add := func(peers []networkingv1.NetworkPolicyPeer) {
		for _, p := range peers {
			if p.IPBlock != nil {
				r.oldCIDRs = append(r.oldCIDRs, p.IPBlock.CIDR)
				r.oldCIDRs = append(r.oldCIDRs, p.IPBlock.Except...)
			}
		}
	}
	for _, in := range old.Spec.Ingress {
		add(in.From)
	}
	for _, out := range old.Spec.Egress {
		add(out.To)
	}
	return r
}

var protocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

func validateNetworkPolicySpec(spec *networkingv1.NetworkPolicySpec, r policyRules) field.ErrorList {
	fld := field.NewPath("spec")
	errs := metavalidation.ValidateLabelSelector(&spec.PodSelector, r.selector, fld.Child("podSelector"))
	for i, in := range spec.Ingress {
		f := fld.Child("ingress").Index(i)
		for j := range in.Ports {
			errs = append(errs, validatePolicyPort(&in.Ports[j], f.Child("ports").Index(j))...)
		}
		for j := range in.From {
			errs = append(errs, validatePeer(&in.From[j], r, f.Child("from").Index(j))...)
		}
	}
	for i, out := range spec.Egress {
		f := fld.Child("egress").Index(i)
		for j := range out.Ports {
			errs = append(errs, validatePolicyPort(&out.Ports[j], f.Child("ports").Index(j))...)
		}
		for j := range out.To {
			errs = append(errs, validatePeer(&out.To[j], r, f.Child("to").Index(j))...)
		}
	}
	if len(spec.PolicyTypes) > 2 {
		return append(errs, field.Invalid(fld.Child("policyTypes"), &spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(fld.Child("policyTypes").Index(i), t,
				[]networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}))
		}
	}
	return errs
}

func validatePolicyPort(p *networkingv1.NetworkPolicyPort, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP && *p.Protocol != corev1.ProtocolUDP && *p.Protocol != corev1.ProtocolSCTP {
		errs = append(errs, field.NotSupported(fld.Child("protocol"), *p.Protocol, protocols))
	}
	switch {
	case p.Port == nil:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(fld.Child("endPort"), *p.EndPort, "may not be specified when `port` is not specified"))
		}
	case p.Port.Type == intstr.Int:
		for _, msg := range validation.IsValidPortNum(int(p.Port.IntVal)) {
			errs = append(errs, field.Invalid(fld.Child("port"), p.Port.IntVal, msg))
		}
		if p.EndPort != nil {
			if *p.EndPort < p.Port.IntVal {
				errs = append(errs, field.Invalid(fld.Child("endPort"), p.Port.IntVal, "must be greater than or equal to `port`"))
			}
			for _, msg := range validation.IsValidPortNum(int(*p.EndPort)) {
				errs = append(errs, field.Invalid(fld.Child("endPort"), *p.EndPort, msg))
			}
		}
	default:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(fld.Child("endPort"), *p.EndPort, "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range validation.IsValidPortName(p.Port.StrVal) {
			errs = append(errs, field.Invalid(fld.Child("port"), p.Port.StrVal, msg))
		}
	}
	return errs
}

func validatePeer(p *networkingv1.NetworkPolicyPeer, r policyRules, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if p.PodSelector != nil {
		n++
		errs = append(errs, metavalidation.ValidateLabelSelector(p.PodSelector, r.selector, fld.Child("podSelector"))...)
	}
	if p.NamespaceSelector != nil {
		n++
		errs = append(errs, metavalidation.ValidateLabelSelector(p.NamespaceSelector, r.selector, fld.Child("namespaceSelector"))...)
	}
	if p.IPBlock != nil {
		n++
		errs = append(errs, validateIPBlock(p.IPBlock, r.oldCIDRs, fld.Child("ipBlock"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(fld, "must specify a peer"))
	case n > 1 && p.IPBlock != nil:
		errs = append(errs, field.Forbidden(fld, "may not specify both ipBlock and another peer"))
	}
	return errs
}

func validateIPBlock(b *networkingv1.IPBlock, oldCIDRs []string, fld *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(fld.Child("cidr"), "")}
	}
	errs := validation.IsValidCIDRForLegacyField(fld.Child("cidr"), b.CIDR, false, oldCIDRs)
	_, cidr, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return errs
	}
	for i, ex := range b.Except {
		ef := fld.Child("except").Index(i)
		errs = append(errs, validation.IsValidCIDRForLegacyField(ef, ex, false, oldCIDRs)...)
		_, exNet, err := netutils.ParseCIDRSloppy(ex)
		if err != nil {
			continue
		}
		outer, _ := cidr.Mask.Size()
		inner, _ := exNet.Mask.Size()
		if !cidr.Contains(exNet.IP) || outer >= inner {
			errs = append(errs, field.Invalid(ef, ex, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}
