// Package plugins is the one ordered list of admission plugins and builds the
// chain from it. The order is upstream's (kube-apiserver's AllOrderedPlugins):
// mutating plugins run in this order, then validating ones in this order.
package plugins

import (
	"fmt"
	"slices"
	"strings"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/certificateapproval"
	"github.com/minik8s/minik8s/pkg/admission/certificatesigning"
	"github.com/minik8s/minik8s/pkg/admission/certificatesubjectrestriction"
	"github.com/minik8s/minik8s/pkg/admission/defaultingressclass"
	"github.com/minik8s/minik8s/pkg/admission/defaultstorageclass"
	"github.com/minik8s/minik8s/pkg/admission/defaulttolerationseconds"
	"github.com/minik8s/minik8s/pkg/admission/limitranger"
	"github.com/minik8s/minik8s/pkg/admission/namespacelifecycle"
	"github.com/minik8s/minik8s/pkg/admission/noderestriction"
	"github.com/minik8s/minik8s/pkg/admission/podsecurity"
	"github.com/minik8s/minik8s/pkg/admission/priority"
	"github.com/minik8s/minik8s/pkg/admission/resourcequota"
	"github.com/minik8s/minik8s/pkg/admission/runtimeclass"
	"github.com/minik8s/minik8s/pkg/admission/serviceaccount"
	"github.com/minik8s/minik8s/pkg/admission/storageobjectinuseprotection"
	"github.com/minik8s/minik8s/pkg/admission/taintnodesbycondition"
	"github.com/minik8s/minik8s/pkg/admission/validatingadmissionpolicy"
	"github.com/minik8s/minik8s/pkg/admission/webhook"
	"github.com/minik8s/minik8s/pkg/admission/webhook/mutating"
	"github.com/minik8s/minik8s/pkg/admission/webhook/validating"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/registry"
)

// Config is what the plugins need from the server.
type Config struct {
	// Objects reads current objects from the server's caches.
	Objects admission.Objects
	// Registry lists the served resources (ValidatingAdmissionPolicy matches them).
	Registry *registry.Registry
	// QuotaStatus charges usage to ResourceQuotas.
	QuotaStatus resourcequota.StatusWriter
	// Authorizer is the server's: the certificate plugins ask it whether a
	// user may approve or sign for a signer.
	Authorizer authorizer.Authorizer
	// Disabled names plugins not to run (upstream's --disable-admission-plugins).
	Disabled []string
	// Enabled names the plugins that are off by default to run
	// (upstream's --enable-admission-plugins).
	Enabled []string

	// webhooks is the dispatcher the two webhook plugins share, made on first use.
	webhooks *webhook.Dispatcher
}

// webhookDispatcher returns the webhook plugins' shared dispatcher.
func (c *Config) webhookDispatcher() (*webhook.Dispatcher, error) {
	if c.webhooks != nil {
		return c.webhooks, nil
	}
	d, err := webhook.NewDispatcher(webhook.Config{
		Source:  webhook.NewSource(c.Registry, webhook.EndpointResolver{Objects: c.Objects}),
		Objects: c.Objects,
		Default: c.Registry.Default,
	})
	if err != nil {
		return nil, err
	}
	c.webhooks = d
	return d, nil
}

// Validate checks that every disabled name is a plugin's.
func (c *Config) Validate() error {
	if c.Objects == nil || c.Registry == nil || c.QuotaStatus == nil || c.Authorizer == nil {
		return fmt.Errorf("admission: objects, registry, quota status and authorizer are required")
	}
	for _, n := range append(slices.Clone(c.Disabled), c.Enabled...) {
		if !slices.Contains(Names(), n) {
			return fmt.Errorf("admission plugin %q is unknown; known plugins are %s", n, strings.Join(Names(), ", "))
		}
	}
	return nil
}

// entry is one plugin of the list.
type entry struct {
	name string
	// off: the plugin runs only when enabled by name (it needs something
	// minik8s does not run yet).
	off bool
	new func(c *Config) (admission.Interface, error)
}

func plain(f func(c *Config) admission.Interface) func(c *Config) (admission.Interface, error) {
	return func(c *Config) (admission.Interface, error) { return f(c), nil }
}

// ordered is every plugin, in upstream's order.
var ordered = []entry{
	{name: namespacelifecycle.Name, new: plain(func(c *Config) admission.Interface {
		return namespacelifecycle.New(c.Objects, namespacelifecycle.ImmortalNamespaces)
	})},
	{name: limitranger.Name, new: plain(func(c *Config) admission.Interface { return limitranger.New(c.Objects) })},
	{name: serviceaccount.Name, new: plain(func(c *Config) admission.Interface { return serviceaccount.New(c.Objects) })},
	{name: noderestriction.Name, new: plain(func(c *Config) admission.Interface {
		return noderestriction.New(noderestriction.ObjectsLookup{Objects: c.Objects})
	})},
	{name: taintnodesbycondition.Name, new: plain(func(*Config) admission.Interface { return taintnodesbycondition.New() })},
	{name: podsecurity.Name, new: func(c *Config) (admission.Interface, error) { return podsecurity.New(c.Objects) }},
	{name: priority.Name, new: plain(func(c *Config) admission.Interface { return priority.New(c.Objects) })},
	{name: defaulttolerationseconds.Name, new: plain(func(*Config) admission.Interface {
		return defaulttolerationseconds.New(defaulttolerationseconds.DefaultSeconds, defaulttolerationseconds.DefaultSeconds)
	})},
	{name: defaultstorageclass.Name, new: plain(func(c *Config) admission.Interface { return defaultstorageclass.New(c.Objects) })},
	{name: storageobjectinuseprotection.Name, new: plain(func(*Config) admission.Interface { return storageobjectinuseprotection.New() })},
	{name: runtimeclass.Name, new: plain(func(c *Config) admission.Interface { return runtimeclass.New(c.Objects) })},
	{name: certificateapproval.Name, new: plain(func(c *Config) admission.Interface { return certificateapproval.New(c.Authorizer) })},
	{name: certificatesigning.Name, new: plain(func(c *Config) admission.Interface { return certificatesigning.New(c.Authorizer) })},
	{name: certificatesubjectrestriction.Name, new: plain(func(*Config) admission.Interface { return certificatesubjectrestriction.New() })},
	{name: defaultingressclass.Name, new: plain(func(c *Config) admission.Interface { return defaultingressclass.New(c.Objects) })},
	{name: mutating.Name, new: func(c *Config) (admission.Interface, error) {
		d, err := c.webhookDispatcher()
		if err != nil {
			return nil, err
		}
		return mutating.New(d), nil
	}},
	{name: validatingadmissionpolicy.Name, new: plain(func(c *Config) admission.Interface {
		return validatingadmissionpolicy.New(c.Registry, c.Objects)
	})},
	{name: validating.Name, new: func(c *Config) (admission.Interface, error) {
		d, err := c.webhookDispatcher()
		if err != nil {
			return nil, err
		}
		return validating.New(d), nil
	}},
	{name: resourcequota.Name, new: plain(func(c *Config) admission.Interface { return resourcequota.New(c.Objects, c.QuotaStatus) })},
}

// Names lists every plugin in chain order.
func Names() []string {
	out := make([]string, len(ordered))
	for i, e := range ordered {
		out[i] = e.name
	}
	return out
}

// OffByDefault lists the plugins that run only when enabled.
func OffByDefault() []string {
	var out []string
	for _, e := range ordered {
		if e.off {
			out = append(out, e.name)
		}
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
		if slices.Contains(c.Disabled, e.name) || e.off && !slices.Contains(c.Enabled, e.name) {
			continue
		}
		p, err := e.new(&c)
		if err != nil {
			return nil, fmt.Errorf("admission plugin %s: %w", e.name, err)
		}
		list = append(list, admission.Named{Name: e.name, Plugin: p})
	}
	return admission.NewChain(list...), nil
}
