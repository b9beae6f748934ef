// Package networking describes the networking.k8s.io/v1 resources: Ingresses,
// IngressClasses, NetworkPolicies, IPAddresses and ServiceCIDRs.
package networking

import "github.com/minik8s/minik8s/pkg/registry"

// Resources returns every networking.k8s.io/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{Ingresses(), IngressClasses(), NetworkPolicies(), IPAddresses(), ServiceCIDRs()}
}

const group = "networking.k8s.io"
