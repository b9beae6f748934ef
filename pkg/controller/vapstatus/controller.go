// Package vapstatus type-checks ValidatingAdmissionPolicies, as upstream's
// validatingadmissionpolicy-status controller does: each new generation of a
// policy has its expressions compiled against the OpenAPI schemas of the
// kinds it matches (read from the API server's /openapi/v3), and whatever
// does not check (an undefined field, a wrong type) is written to
// status.typeChecking.expressionWarnings, with status.observedGeneration.
// The checking itself is k8s.io/apiserver's, as upstream's.
package vapstatus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	admissionregistrationv1apply "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	admissioninformers "k8s.io/client-go/informers/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	admissionlisters "k8s.io/client-go/listers/admissionregistration/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name (and field manager), as upstream's.
const Name = "validatingadmissionpolicy-status-controller"

// Checker finds the expressions of a policy that do not type-check.
type Checker interface {
	Check(policy *admissionregistrationv1.ValidatingAdmissionPolicy) []admissionregistrationv1.ExpressionWarning
}

var _ Checker = &validating.TypeChecker{}

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	Policies admissioninformers.ValidatingAdmissionPolicyInformer
	Checker  Checker
	Workers  int
	Log      *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Policies == nil || c.Checker == nil:
		return errors.New("validatingadmissionpolicy status controller: a client, a policy informer and a type checker are required")
	case c.Workers < 1:
		return fmt.Errorf("validatingadmissionpolicy status controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller writes policies' type-checking status.
type Controller struct {
	cfg      Config
	policies admissionlisters.ValidatingAdmissionPolicyLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	log      *slog.Logger
}

// New wires the controller to the policy informer.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, policies: cfg.Policies.Lister(), queue: worker.NewQueue("validatingadmissionpolicy-status"), log: log}
	reg, err := cfg.Policies.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{reg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the policy named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}) {
	p, ok := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy)
	if ok && NeedsCheck(p) {
		c.queue.Add(p.Name)
	}
}

// NeedsCheck: a generation not yet checked.
func NeedsCheck(p *admissionregistrationv1.ValidatingAdmissionPolicy) bool {
	return p.Generation > p.Status.ObservedGeneration
}

func (c *Controller) sync(ctx context.Context, key string) error {
	p, err := c.policies.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !NeedsCheck(p) {
		return nil
	}
	warnings := c.cfg.Checker.Check(p)
	applied := make([]*admissionregistrationv1apply.ExpressionWarningApplyConfiguration, 0, len(warnings))
	for _, w := range warnings {
		applied = append(applied, admissionregistrationv1apply.ExpressionWarning().WithFieldRef(w.FieldRef).WithWarning(w.Warning))
	}
	status := admissionregistrationv1apply.ValidatingAdmissionPolicy(p.Name).
		WithStatus(admissionregistrationv1apply.ValidatingAdmissionPolicyStatus().
			WithObservedGeneration(p.Generation).
			WithTypeChecking(admissionregistrationv1apply.TypeChecking().WithExpressionWarnings(applied...)))
	_, err = c.cfg.Client.AdmissionregistrationV1().ValidatingAdmissionPolicies().ApplyStatus(ctx, status, metav1.ApplyOptions{FieldManager: Name, Force: true})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write the type checking status of validatingadmissionpolicy %s: %w", key, err)
	}
	return nil
}
