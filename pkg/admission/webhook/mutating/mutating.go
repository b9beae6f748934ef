// Package mutating is upstream's MutatingAdmissionWebhook admission plugin:
// the mutating phase calls the MutatingWebhookConfigurations' webhooks that
// match a request and applies their patches (see package webhook).
package mutating

import (
	"context"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/webhook"
)

// Name is the plugin's name.
const Name = "MutatingAdmissionWebhook"

// Plugin calls mutating webhooks.
type Plugin struct {
	admission.Handler
	d *webhook.Dispatcher
}

var _ admission.MutationInterface = &Plugin{}
var _ admission.ResourceSelector = &Plugin{}

// New returns the plugin calling webhooks through d.
func New(d *webhook.Dispatcher) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Delete, admission.Connect), d: d}
}

// HandlesResource implements admission.ResourceSelector.
func (p *Plugin) HandlesResource(t admission.Target) bool { return webhook.HandlesResource(t) }

// Admit implements admission.MutationInterface.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error { return p.d.Admit(ctx, a) }
