package core

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

var (
	serviceTypes = sets.New(corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer,
		corev1.ServiceTypeExternalName)
	sessionAffinities = sets.New(corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)
	ipFamilies        = sets.New(corev1.IPv4Protocol, corev1.IPv6Protocol)
	ipFamilyPolicies  = sets.New(corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack)
)

// maxClientIPAffinitySeconds is one day, upstream's limit on affinity timeouts.
const maxClientIPAffinitySeconds = 86400

// validateService checks a service; old is its previous state on update.
func validateService(svc, old *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if mode, ok := svc.Annotations[corev1.AnnotationTopologyMode]; ok {
		if hints, ok := svc.Annotations[corev1.DeprecatedAnnotationTopologyAwareHints]; ok && hints != mode {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "annotations").Key(corev1.AnnotationTopologyMode), mode,
				fmt.Sprintf("must match annotations[%s] when both are specified", corev1.DeprecatedAnnotationTopologyAwareHints)))
		}
	}
	if len(svc.Spec.Ports) == 0 && !isHeadless(svc) && svc.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(spec.Child("ports"), ""))
	}
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		if isHeadless(svc) {
			errs = append(errs, field.Invalid(spec.Child("clusterIPs").Index(0), svc.Spec.ClusterIPs[0],
				fmt.Sprintf("may not be set to 'None' for %s services", svc.Spec.Type)))
		}
	case corev1.ServiceTypeExternalName:
		if len(svc.Spec.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(spec.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(svc.Spec.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(spec.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if svc.Spec.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(spec.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		if name := strings.TrimSuffix(svc.Spec.ExternalName, "."); name != "" {
			errs = append(errs, podspec.DNS1123Subdomain(name, spec.Child("externalName"))...)
		} else {
			errs = append(errs, field.Required(spec.Child("externalName"), ""))
		}
	}
	names := sets.New[string]()
	for i := range svc.Spec.Ports {
		errs = append(errs, validateServicePort(&svc.Spec.Ports[i], len(svc.Spec.Ports) > 1, names, spec.Child("ports").Index(i))...)
	}
	if svc.Spec.Selector != nil {
		errs = append(errs, metavalidation.ValidateLabels(svc.Spec.Selector, spec.Child("selector"))...)
	}
	switch {
	case svc.Spec.SessionAffinity == "":
		errs = append(errs, field.Required(spec.Child("sessionAffinity"), ""))
	case !sessionAffinities.Has(svc.Spec.SessionAffinity):
		errs = append(errs, field.NotSupported(spec.Child("sessionAffinity"), svc.Spec.SessionAffinity, sets.List(sessionAffinities)))
	}
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		errs = append(errs, validateClientIPAffinity(svc.Spec.SessionAffinityConfig, spec.Child("sessionAffinityConfig"))...)
	} else if svc.Spec.SessionAffinity == corev1.ServiceAffinityNone && svc.Spec.SessionAffinityConfig != nil {
		errs = append(errs, field.Forbidden(spec.Child("sessionAffinityConfig"), "must not be set when session affinity is None"))
	}
	errs = append(errs, validateClusterIPFields(svc, old)...)
	var oldExternal []string
	if old != nil {
		oldExternal = old.Spec.ExternalIPs
	}
	for i, ip := range svc.Spec.ExternalIPs {
		p := spec.Child("externalIPs").Index(i)
		if el := validation.IsValidIPForLegacyField(p, ip, false, oldExternal); len(el) > 0 {
			errs = append(errs, el...)
		} else {
			errs = append(errs, validateEndpointIP(ip, p)...)
		}
	}
	switch {
	case svc.Spec.Type == "":
		errs = append(errs, field.Required(spec.Child("type"), ""))
	case !serviceTypes.Has(svc.Spec.Type):
		errs = append(errs, field.NotSupported(spec.Child("type"), svc.Spec.Type, sets.List(serviceTypes)))
	}
	if svc.Spec.Type == corev1.ServiceTypeClusterIP {
		for i, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				errs = append(errs, field.Forbidden(spec.Child("ports").Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
		}
	}
	nodePorts := map[corev1.ServicePort]bool{}
	ports := map[corev1.ServicePort]bool{}
	for i, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			key := corev1.ServicePort{Protocol: p.Protocol, NodePort: p.NodePort}
			if nodePorts[key] {
				errs = append(errs, field.Duplicate(spec.Child("ports").Index(i).Child("nodePort"), p.NodePort))
			}
			nodePorts[key] = true
		}
		key := corev1.ServicePort{Protocol: p.Protocol, Port: p.Port}
		if ports[key] {
			errs = append(errs, field.Duplicate(spec.Child("ports").Index(i), podspec.GoNamed(key)))
		}
		ports[key] = true
	}
	errs = append(errs, validateLoadBalancerFields(svc, old)...)
	errs = append(errs, validateTrafficPolicies(svc)...)
	return errs
}

func validateServicePort(sp *corev1.ServicePort, requireName bool, names sets.Set[string], fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && sp.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	} else if sp.Name != "" {
		errs = append(errs, podspec.DNS1123Label(sp.Name, fld.Child("name"))...)
		if names.Has(sp.Name) {
			errs = append(errs, field.Duplicate(fld.Child("name"), sp.Name))
		}
		names.Insert(sp.Name)
	}
	for _, msg := range validation.IsValidPortNum(int(sp.Port)) {
		errs = append(errs, field.Invalid(fld.Child("port"), sp.Port, msg))
	}
	errs = append(errs, validateProtocol(sp.Protocol, fld.Child("protocol"))...)
	errs = append(errs, podspec.PortNumOrName(sp.TargetPort, fld.Child("targetPort"))...)
	if sp.AppProtocol != nil {
		errs = append(errs, podspec.QualifiedName(*sp.AppProtocol, fld.Child("appProtocol"))...)
	}
	return errs
}

var portProtocols = sets.New(corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)

func validateProtocol(proto corev1.Protocol, fld *field.Path) field.ErrorList {
	if proto == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	if !portProtocols.Has(proto) {
		return field.ErrorList{field.NotSupported(fld, proto, sets.List(portProtocols))}
	}
	return nil
}

func validateClientIPAffinity(c *corev1.SessionAffinityConfig, fld *field.Path) field.ErrorList {
	const when = "when session affinity type is ClientIP"
	switch {
	case c == nil:
		return field.ErrorList{field.Required(fld, when)}
	case c.ClientIP == nil:
		return field.ErrorList{field.Required(fld.Child("clientIP"), when)}
	case c.ClientIP.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(fld.Child("clientIP").Child("timeoutSeconds"), when)}
	}
	if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
		return field.ErrorList{field.Invalid(fld.Child("clientIP").Child("timeoutSeconds"), c.ClientIP.TimeoutSeconds,
			fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds))}
	}
	return nil
}

// validateClusterIPFields checks clusterIP, clusterIPs, ipFamilies and ipFamilyPolicy together.
func validateClusterIPFields(svc, old *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	var errs field.ErrorList
	spec := field.NewPath("spec")
	ipsPath := spec.Child("clusterIPs")
	if svc.Spec.ClusterIP != "" {
		if len(svc.Spec.ClusterIPs) == 0 {
			errs = append(errs, field.Required(ipsPath, ""))
		} else if svc.Spec.ClusterIPs[0] != svc.Spec.ClusterIP {
			errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "first value must match `clusterIP`"))
		}
	} else if len(svc.Spec.ClusterIPs) != 0 {
		errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "must be empty when `clusterIP` is not specified"))
	}
	seen := sets.New[corev1.IPFamily]()
	for i, f := range svc.Spec.IPFamilies {
		if !ipFamilies.Has(f) {
			errs = append(errs, field.NotSupported(spec.Child("ipFamilies").Index(i), f, sets.List(ipFamilies)))
		}
		if seen.Has(f) {
			errs = append(errs, field.Duplicate(spec.Child("ipFamilies").Index(i), f))
		}
		seen.Insert(f)
	}
	if p := svc.Spec.IPFamilyPolicy; p != nil && !ipFamilyPolicies.Has(*p) {
		errs = append(errs, field.NotSupported(spec.Child("ipFamilyPolicy"), p, sets.List(ipFamilyPolicies)))
	}
	var oldIPs []string
	if old != nil {
		oldIPs = old.Spec.ClusterIPs
	}
	invalid := false
	for i, ip := range svc.Spec.ClusterIPs {
		if i == 0 && ip == corev1.ClusterIPNone {
			if len(svc.Spec.ClusterIPs) > 1 {
				invalid = true
				errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "'None' must be the first and only value"))
			}
			continue
		}
		el := validation.IsValidIPForLegacyField(ipsPath.Index(i), ip, false, oldIPs)
		invalid = invalid || len(el) > 0
		errs = append(errs, el...)
	}
	if len(svc.Spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "may only hold up to 2 values"))
	}
	if invalid {
		return errs
	}
	if len(svc.Spec.ClusterIPs) > 1 && !dualStack(svc.Spec.ClusterIPs) {
		errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "may specify no more than one IP for each IP family"))
	}
	if !isHeadless(svc) {
		for i, ip := range svc.Spec.ClusterIPs {
			if i >= len(svc.Spec.IPFamilies) {
				break
			}
			v6 := isIPv6(ip)
			switch {
			case svc.Spec.IPFamilies[i] == corev1.IPv4Protocol && v6:
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv4 value as indicated by `ipFamilies[%v]`", i)))
			case svc.Spec.IPFamilies[i] == corev1.IPv6Protocol && !v6:
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv6 value as indicated by `ipFamilies[%v]`", i)))
			}
		}
	}
	return errs
}

func isIPv6(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && !a.Unmap().Is4()
}

func validateLoadBalancerFields(svc, old *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	lb := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	if len(svc.Spec.LoadBalancerSourceRanges) > 0 {
		p := spec.Child("LoadBalancerSourceRanges")
		if !lb {
			errs = append(errs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
		}
		var oldRanges []string
		if old != nil {
			for _, r := range old.Spec.LoadBalancerSourceRanges {
				oldRanges = append(oldRanges, strings.TrimSpace(r))
			}
		}
		for i, r := range svc.Spec.LoadBalancerSourceRanges {
			errs = append(errs, validation.IsValidCIDRForLegacyField(p.Index(i), strings.TrimSpace(r), false, oldRanges)...)
		}
	} else if v, ok := svc.Annotations[corev1.AnnotationLoadBalancerSourceRangesKey]; ok {
		p := field.NewPath("metadata", "annotations").Key(corev1.AnnotationLoadBalancerSourceRangesKey)
		if !lb {
			errs = append(errs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
		}
		if old == nil || old.Annotations[corev1.AnnotationLoadBalancerSourceRangesKey] != v {
			if v = strings.TrimSpace(v); v != "" {
				for _, r := range strings.Split(v, ",") {
					errs = append(errs, validation.IsValidCIDRForLegacyField(p, strings.TrimSpace(r), false, nil)...)
				}
			}
		}
	}
	if svc.Spec.AllocateLoadBalancerNodePorts != nil && !lb {
		errs = append(errs, field.Forbidden(spec.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if lb && svc.Spec.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, field.Required(field.NewPath("allocateLoadBalancerNodePorts"), ""))
	}
	if c := svc.Spec.LoadBalancerClass; c != nil {
		if lb {
			errs = append(errs, podspec.QualifiedName(*c, spec.Child("loadBalancerClass"))...)
		} else {
			errs = append(errs, field.Forbidden(spec.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
		}
	}
	return errs
}

var externalTrafficPolicies = sets.New(corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal)

var internalTrafficPolicies = sets.New(corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal)

func validateTrafficPolicies(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	etp := svc.Spec.ExternalTrafficPolicy
	if !externallyAccessible(svc) {
		if etp != "" {
			errs = append(errs, field.Invalid(spec.Child("externalTrafficPolicy"), etp, "may only be set for externally-accessible services"))
		}
	} else if etp == "" {
		errs = append(errs, field.Required(spec.Child("externalTrafficPolicy"), ""))
	} else if !externalTrafficPolicies.Has(etp) {
		errs = append(errs, field.NotSupported(spec.Child("externalTrafficPolicy"), etp, sets.List(externalTrafficPolicies)))
	}
	hc := svc.Spec.HealthCheckNodePort
	if !needsHealthCheck(svc) {
		if hc != 0 {
			errs = append(errs, field.Invalid(spec.Child("healthCheckNodePort"), hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		}
	} else if hc != 0 {
		for _, msg := range validation.IsValidPortNum(int(hc)) {
			errs = append(errs, field.Invalid(spec.Child("healthCheckNodePort"), hc, msg))
		}
	}
	itp := svc.Spec.InternalTrafficPolicy
	if itp == nil && svc.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(spec.Child("internalTrafficPolicy"), ""))
	}
	if itp != nil && !internalTrafficPolicies.Has(*itp) {
		errs = append(errs, field.NotSupported(spec.Child("internalTrafficPolicy"), *itp, sets.List(internalTrafficPolicies)))
	}
	if td := svc.Spec.TrafficDistribution; td != nil {
		allowed := []string{corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone, corev1.ServiceTrafficDistributionPreferSameNode}
		if !sets.New(allowed...).Has(*td) {
			errs = append(errs, field.NotSupported(spec.Child("trafficDistribution"), *td, allowed))
		}
	}
	return errs
}

func validateServiceStatusUpdate(obj, old runtime.Object) field.ErrorList {
	svc := obj.(*corev1.Service)
	var errs field.ErrorList
	fld := field.NewPath("status", "loadBalancer", "ingress")
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		p := fld.Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIPForLegacyField(p.Child("ip"), ing.IP, false, nil)...)
		}
		if ing.IPMode != nil && ing.IP == "" {
			errs = append(errs, field.Forbidden(p.Child("ipMode"), "may not be specified when `ip` is not set"))
		} else if ing.IPMode == nil && ing.IP != "" && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Required(p.Child("ipMode"), "must be specified when `ip` is set"))
		} else if m := ing.IPMode; m != nil && *m != corev1.LoadBalancerIPModeVIP && *m != corev1.LoadBalancerIPModeProxy {
			errs = append(errs, field.NotSupported(p.Child("ipMode"), *m, []corev1.LoadBalancerIPMode{corev1.LoadBalancerIPModeProxy, corev1.LoadBalancerIPModeVIP}))
		}
		if ing.Hostname != "" {
			errs = append(errs, podspec.DNS1123Subdomain(ing.Hostname, p.Child("hostname"))...)
			if isIP(ing.Hostname) {
				errs = append(errs, field.Invalid(p.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
