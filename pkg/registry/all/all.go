// Package all lists every resource minik8s serves; it is the one place to add one.
package all

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/admissionregistration"
	"github.com/minik8s/minik8s/pkg/registry/apiextensions"
	"github.com/minik8s/minik8s/pkg/registry/apiregistration"
	"github.com/minik8s/minik8s/pkg/registry/apps"
	"github.com/minik8s/minik8s/pkg/registry/authentication"
	"github.com/minik8s/minik8s/pkg/registry/authorization"
	"github.com/minik8s/minik8s/pkg/registry/autoscaling"
	"github.com/minik8s/minik8s/pkg/registry/batch"
	"github.com/minik8s/minik8s/pkg/registry/certificates"
	"github.com/minik8s/minik8s/pkg/registry/coordination"
	"github.com/minik8s/minik8s/pkg/registry/core"
	"github.com/minik8s/minik8s/pkg/registry/discovery"
	"github.com/minik8s/minik8s/pkg/registry/events"
	"github.com/minik8s/minik8s/pkg/registry/flowcontrol"
	"github.com/minik8s/minik8s/pkg/registry/networking"
	"github.com/minik8s/minik8s/pkg/registry/node"
	"github.com/minik8s/minik8s/pkg/registry/policy"
	"github.com/minik8s/minik8s/pkg/registry/rbac"
	"github.com/minik8s/minik8s/pkg/registry/scheduling"
	storageapi "github.com/minik8s/minik8s/pkg/registry/storage"
)

// Options configure the resources that need configuration.
type Options struct {
	Core           core.Options
	Authentication authentication.Options
	Authorization  authorization.Options
}

// Build returns the registry of all built-in resources.
func Build(opts Options) (*registry.Registry, error) {
	if err := addConversions(); err != nil {
		return nil, err
	}
	r := registry.New()
	coreResources, err := core.Resources(opts.Core)
	if err != nil {
		return nil, err
	}
	// Core comes first: where versions share storage, the first registered
	// resource defines it (core/v1 events for events.k8s.io).
	groups := [][]*registry.Resource{
		coreResources,
		apps.Resources(),
		events.Resources(),
		authentication.Resources(opts.Authentication),
		authorization.Resources(opts.Authorization),
		autoscaling.Resources(),
		batch.Resources(),
		certificates.Resources(),
		networking.Resources(),
		policy.Resources(),
		rbac.Resources(),
		storageapi.Resources(),
		admissionregistration.Resources(),
		scheduling.Resources(),
		coordination.Resources(),
		node.Resources(),
		discovery.Resources(),
		flowcontrol.Resources(),
		apiextensions.Resources(),
		apiregistration.Resources(),
	}
	for _, g := range groups {
		if err := r.Add(g...); err != nil {
			return nil, err
		}
	}
	return r, nil
}

var (
	conversionsOnce sync.Once
	conversionsErr  error
)

// addConversions registers, once, the conversions between the versions of
// resources served in several (the apiserver converts with apis.Scheme).
func addConversions() error {
	conversionsOnce.Do(func() {
		for _, add := range []func(*runtime.Scheme) error{autoscaling.AddConversions, events.AddConversions} {
			if err := add(apis.Scheme); err != nil {
				conversionsErr = fmt.Errorf("register conversions: %w", err)
				return
			}
		}
	})
	return conversionsErr
}
