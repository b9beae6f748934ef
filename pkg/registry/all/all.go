// Package all lists every resource minik8s serves; it is the one place to add one.
package all

import (
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/core"
)

// Options configure the resources that need configuration.
type Options struct {
	Core core.Options
}

// Build returns the registry of all built-in resources.
func Build(opts Options) (*registry.Registry, error) {
	r := registry.New()
	coreResources, err := core.Resources(opts.Core)
	if err != nil {
		return nil, err
	}
	if err := r.Add(coreResources...); err != nil {
		return nil, err
	}
	return r, nil
}
