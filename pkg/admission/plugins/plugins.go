// Package plugins is the one ordered list of admission plugins and builds the
// chain from it. The order is upstream's (kube-apiserver's AllOrderedPlugins):
// mutating plugins run in this order, then validating ones in this order.
package plugins

import (
	"fmt"
	"slices"
	"strings"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/defaulttolerationseconds"
	"github.com/minik8s/minik8s/pkg/admission/namespacelifecycle"
	"github.com/minik8s/minik8s/pkg/admission/noderestriction"
	"github.com/minik8s/minik8s/pkg/admission/priority"
	"github.com/minik8s/minik8s/pkg/admission/runtimeclass"
	"github.com/minik8s/minik8s/pkg/admission/serviceaccount"
	"github.com/minik8s/minik8s/pkg/admission/validatingadmissionpolicy"
	"github.com/minik8s/minik8s/pkg/registry"
)

// Config is what the plugins need from the server.
type Config struct {
	// Objects reads current objects from the server's caches.
	Objects admission.Objects
	// Registry lists the served resources (ValidatingAdmissionPolicy matches them).
	Registry *registry.Registry
	// Disabled names plugins not to run (upstream's --disable-admission-plugins).
	Disabled []string
}

// Validate checks that every disabled name is a plugin's.
func (c *Config) Validate() error {
	if c.Objects == nil || c.Registry == nil {
		return fmt.Errorf("admission: objects and registry are required")
	}
	for _, n := range c.Disabled {
		if !slices.Contains(Names(), n) {
			return fmt.Errorf("admission plugin %q is unknown; known plugins are %s", n, strings.Join(Names(), ", "))
		}
	}
	return nil
}

// entry is one plugin of the list.
type entry struct {
	name string
	new  func(c *Config) admission.Interface
}

// ordered is every plugin, in upstream's order.
var ordered = []entry{
	{namespacelifecycle.Name, func(c *Config) admission.Interface {
		return namespacelifecycle.New(c.Objects, namespacelifecycle.ImmortalNamespaces)
	}},
	{serviceaccount.Name, func(c *Config) admission.Interface { return serviceaccount.New(c.Objects) }},
	{noderestriction.Name, func(c *Config) admission.Interface {
		return noderestriction.New(noderestriction.ObjectsLookup{Objects: c.Objects})
	}},
	{priority.Name, func(c *Config) admission.Interface { return priority.New(c.Objects) }},
	{defaulttolerationseconds.Name, func(c *Config) admission.Interface {
		return defaulttolerationseconds.New(defaulttolerationseconds.DefaultSeconds, defaulttolerationseconds.DefaultSeconds)
	}},
	{runtimeclass.Name, func(c *Config) admission.Interface { return runtimeclass.New(c.Objects) }},
	{validatingadmissionpolicy.Name, func(c *Config) admission.Interface {
		return validatingadmissionpolicy.New(c.Registry, c.Objects)
	}},
}

// Names lists every plugin in chain order.
func Names() []string {
	out := make([]string, len(ordered))
	for i, e := range ordered {
		out[i] = e.name
	}
	return out
}

// New builds the chain of every plugin not disabled.
func New(c Config) (*admission.Chain, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var list []admission.Named
	for _, e := range ordered {
		if slices.Contains(c.Disabled, e.name) {
			continue
		}
		list = append(list, admission.Named{Name: e.name, Plugin: e.new(&c)})
	}
	return admission.NewChain(list...), nil
}
