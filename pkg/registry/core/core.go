// Package core describes the core/v1 resources: names, storage, defaults,
// validation, tables and field selectors, following upstream's behaviour.
package core

import "github.com/minik8s/minik8s/pkg/registry"

// Resources returns every core/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		Namespaces(),
		ConfigMaps(),
	}
}
