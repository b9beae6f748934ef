package webhook

import (
	"fmt"
	"log/slog"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Config is what the dispatcher needs.
type Config struct {
	// Source gives the compiled webhook configurations.
	Source *Source
	// Objects reads namespaces (namespaceSelector) and, for a deletion's
	// mutating phase, the object being deleted.
	Objects admission.Objects
	// Default applies the type's defaults to an object a webhook patched.
	Default func(obj runtime.Object)
	Logger  *slog.Logger
}

// Validate checks the config.
func (c *Config) Validate() error {
	if c.Source == nil || c.Objects == nil {
		return fmt.Errorf("webhook dispatcher: source and objects are required")
	}
	return nil
}

// Dispatcher calls the webhooks that match a request.
type Dispatcher struct {
	cfg Config
	log *slog.Logger
}

// NewDispatcher returns a dispatcher.
func NewDispatcher(cfg Config) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Dispatcher{cfg: cfg, log: log}, nil
}

// exempt are the resources no webhook is called for, as upstream: the
// admission configuration itself (a webhook could otherwise lock itself in)
// and the virtual review resources of authentication and authorization.
var exempt = map[schema.GroupResource]bool{
	{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"}:     true,
	{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"}:   true,
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}:       true,
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings"}: true,
	{Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicies"}:         true,
	{Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicybindings"}:   true,
	{Group: "authentication.k8s.io", Resource: "tokenreviews"}:                             true,
	{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}:                       true,
	{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}:                      true,
	{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}:                  true,
	{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}:                 true,
	{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}:                   true,
}

// HandlesResource reports whether webhooks may be called for t.
func HandlesResource(t admission.Target) bool { return !exempt[t.Resource] }

// matching returns the request's matched hooks: after the first request of
// a kind, one map lookup.
func (d *Dispatcher) matching(a *admission.Attributes) *matched {
	return d.cfg.Source.snapshot().match(targetOf(a))
}
