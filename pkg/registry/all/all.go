// Package all lists every resource minik8s serves; it is the one place to add one.
package all

import (
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/core"
)

// Build returns the registry of all built-in resources.
func Build() (*registry.Registry, error) {
	r := registry.New()
	if err := r.Add(core.Resources()...); err != nil {
		return nil, err
	}
	return r, nil
}
