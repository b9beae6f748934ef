// Package core describes the core/v1 resources: names, storage, defaults,
// validation, tables and field selectors, following upstream's behaviour.
package core

import (
	"github.com/minik8s/minik8s/pkg/registry"
)

// Options configure the core resources.
type Options struct {
	// ServiceCIDR is where Service cluster IPs come from; its first address is the
	// `kubernetes` Service's. Empty means 10.96.0.0/12.
	ServiceCIDR string
	// NodePortRange is where node ports come from, "first-last". Empty means 30000-32767.
	NodePortRange string
}

// Defaults of Options, upstream's.
const (
	DefaultServiceCIDR   = "10.96.0.0/12"
	DefaultNodePortRange = "30000-32767"
)

// Resources returns every core/v1 resource.
func Resources(opts Options) ([]*registry.Resource, error) {
	if opts.ServiceCIDR == "" {
		opts.ServiceCIDR = DefaultServiceCIDR
	}
	if opts.NodePortRange == "" {
		opts.NodePortRange = DefaultNodePortRange
	}
	alloc, err := newServiceAllocator(opts.ServiceCIDR, opts.NodePortRange)
	if err != nil {
		return nil, err
	}
	serviceAccounts := ServiceAccounts()
	pods := Pods(serviceAccounts)
	return []*registry.Resource{
		Namespaces(),
		ConfigMaps(),
		pods,
		Bindings(pods),
		Services(alloc),
		Endpoints(),
		Nodes(),
		Events(),
		serviceAccounts,
		Secrets(),
		ReplicationControllers(),
		ResourceQuotas(),
		LimitRanges(),
		PersistentVolumes(),
		PersistentVolumeClaims(),
		PodTemplates(),
		ComponentStatuses(),
	}, nil
}
