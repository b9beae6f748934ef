package core

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Services is core/v1 services. Cluster IPs and node ports come from alloc, which
// the hooks keep in step with what is stored.
func Services(alloc *serviceAllocator) *registry.Resource {
	res := &registry.Resource{
		Version: "v1", Name: "services", Kind: "Service", SingularName: "service", ShortNames: []string{"svc"},
		DeleteReturnsObject: true,
		Categories:          []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &corev1.Service{} },
		NewList:   func() runtime.Object { return &corev1.ServiceList{} },
		KeyPrefix: "services/specs",
		Status:    true,
		ValidName: apivalidation.NameIsDNS1035Label,
		Strategy: &registry.Generic{
			Defaults: defaultService,
			// Upstream allocates before validating: what allocation refuses is all it reports.
			Validation: func(obj runtime.Object) field.ErrorList {
				if errs := alloc.precheck(obj.(*corev1.Service), nil); len(errs) > 0 {
					return errs
				}
				return validateService(obj.(*corev1.Service), nil)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				if errs := alloc.precheck(obj.(*corev1.Service), old.(*corev1.Service)); len(errs) > 0 {
					return errs
				}
				return validateServiceUpdate(obj, old)
			},
			StatusValidation: validateServiceStatusUpdate,
			Update:           prepareServiceUpdate,
			NoGeneration:     true,
		},
		Hooks: alloc,
		Table: serviceTable,
		Fields: func(obj runtime.Object) map[string]string {
			svc := obj.(*corev1.Service)
			return map[string]string{"spec.clusterIP": svc.Spec.ClusterIP, "spec.type": string(svc.Spec.Type)}
		},
		Subresources: []registry.Subresource{
			{Name: "proxy", Kind: corev1.SchemeGroupVersion.WithKind("ServiceProxyOptions"), Verbs: []string{"create", "delete", "get", "patch", "update"}},
		},
	}
	alloc.services = res
	return res
}

// defaultService applies upstream's v1 defaults, and keeps clusterIP and
// clusterIPs in step as upstream does before validation.
func defaultService(obj runtime.Object) {
	svc := obj.(*corev1.Service)
	s := &svc.Spec
	if s.SessionAffinity == "" {
		s.SessionAffinity = corev1.ServiceAffinityNone
	}
	if s.SessionAffinity == corev1.ServiceAffinityNone {
		s.SessionAffinityConfig = nil
	}
	if s.SessionAffinity == corev1.ServiceAffinityClientIP {
		if c := s.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			timeout := corev1.DefaultClientIPServiceAffinitySeconds
			s.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}}
		}
	}
	if s.Type == "" {
		s.Type = corev1.ServiceTypeClusterIP
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if externallyAccessible(svc) && s.ExternalTrafficPolicy == "" {
		s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	switch {
	case s.Type == corev1.ServiceTypeExternalName:
		// Upstream never shows it for ExternalName services (it drops it on read).
		s.InternalTrafficPolicy = nil
	case s.InternalTrafficPolicy == nil:
		policy := corev1.ServiceInternalTrafficPolicyCluster
		s.InternalTrafficPolicy = &policy
	}
	if s.Type == corev1.ServiceTypeLoadBalancer {
		if s.AllocateLoadBalancerNodePorts == nil {
			yes := true
			s.AllocateLoadBalancerNodePorts = &yes
		}
		vip := corev1.LoadBalancerIPModeVIP
		for i, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP != "" && ing.IPMode == nil {
				svc.Status.LoadBalancer.Ingress[i].IPMode = &vip
			}
		}
	}
	if s.ClusterIP != "" && len(s.ClusterIPs) == 0 {
		s.ClusterIPs = []string{s.ClusterIP}
	}
}

// externallyAccessible: NodePort and LoadBalancer services, and ClusterIP ones
// with external IPs.
func externallyAccessible(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

func needsHealthCheck(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

func needsNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

func isHeadless(svc *corev1.Service) bool {
	return len(svc.Spec.ClusterIPs) == 1 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone
}

var serviceTable = &registry.Table{
	Cols: []metav1.TableColumnDefinition{
		registry.NameColumn,
		registry.Col("Type", "string", corev1.ServiceSpec{}.SwaggerDoc()["type"], 0),
		registry.Col("Cluster-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"], 0),
		registry.Col("External-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"], 0),
		registry.Col("Port(s)", "string", corev1.ServiceSpec{}.SwaggerDoc()["ports"], 0),
		registry.AgeColumn,
		registry.Col("Selector", "string", corev1.ServiceSpec{}.SwaggerDoc()["selector"], 1),
	},
	Cells: func(obj runtime.Object) []interface{} {
		svc := obj.(*corev1.Service)
		clusterIP := "<none>"
		if len(svc.Spec.ClusterIPs) > 0 {
			clusterIP = svc.Spec.ClusterIPs[0]
		}
		ports := make([]string, len(svc.Spec.Ports))
		for i, p := range svc.Spec.Ports {
			ports[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
			if p.NodePort > 0 {
				ports[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
			}
		}
		portCell := strings.Join(ports, ",")
		if portCell == "" {
			portCell = "<none>"
		}
		return []interface{}{svc.Name, string(svc.Spec.Type), clusterIP, serviceExternalIP(svc), portCell,
			registry.Age(svc.CreationTimestamp), labels.FormatLabels(svc.Spec.Selector)}
	},
}

// serviceExternalIP is the EXTERNAL-IP cell (the server prints the wide form).
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		seen := map[string]bool{}
		var lb []string
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			v := ing.IP
			if v == "" {
				v = ing.Hostname
			}
			if v != "" && !seen[v] {
				seen[v] = true
				lb = append(lb, v)
			}
		}
		sort.Strings(lb)
		all := append(lb, svc.Spec.ExternalIPs...)
		if len(all) > 0 {
			return strings.Join(all, ",")
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}
