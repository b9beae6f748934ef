// Package validating is upstream's ValidatingAdmissionWebhook admission
// plugin: the validating phase calls the ValidatingWebhookConfigurations'
// webhooks that match a request, in parallel (see package webhook).
package validating

import (
	"context"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/webhook"
)

// Name is the plugin's name.
const Name = "ValidatingAdmissionWebhook"

// Plugin calls validating webhooks.
type Plugin struct {
	admission.Handler
	d *webhook.Dispatcher
}

var _ admission.ValidationInterface = &Plugin{}
var _ admission.ResourceSelector = &Plugin{}

// New returns the plugin calling webhooks through d.
func New(d *webhook.Dispatcher) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Delete, admission.Connect), d: d}
}

// HandlesResource implements admission.ResourceSelector.
func (p *Plugin) HandlesResource(t admission.Target) bool { return webhook.HandlesResource(t) }

// Validate implements admission.ValidationInterface.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	return p.d.Validate(ctx, a)
}
