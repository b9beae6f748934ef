// Package csrapproving approves kubelets' client certificate requests, as
// upstream's csrapproving controller does: a request recognized as a node
// client CSR is approved (reason AutoApproved) if a SubjectAccessReview says
// its requester may create certificatesigningrequests/selfnodeclient (renewing
// its own certificate) or certificatesigningrequests/nodeclient (any node's).
// Anything else is left for a person to approve.
package csrapproving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	authzv1 "k8s.io/api/authorization/v1"
	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/certificates"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is upstream's name of the controller.
const Name = "certificatesigningrequest-approving-controller"

// Config wires the controller.
type Config struct {
	Client  kubernetes.Interface
	CSRs    certinformers.CertificateSigningRequestInformer
	Workers int
	Clock   clock.PassiveClock
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.CSRs == nil:
		return errors.New("csrapproving controller: a client and a CSR informer are required")
	case c.Workers < 1:
		return fmt.Errorf("csrapproving controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller approves node client CSRs.
type Controller struct {
	cfg    Config
	csrs   cache.Indexer
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	log    *slog.Logger
}

// New wires the controller to the CSR informer.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	inf := cfg.CSRs.Informer()
	c := &Controller{cfg: cfg, csrs: inf.GetIndexer(), queue: worker.NewQueue("csrapproving"), log: log}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
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

// Sync handles the CSR named key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}) {
	if csr, ok := obj.(*certv1.CertificateSigningRequest); ok && pending(csr) && csr.Spec.SignerName == certv1.KubeAPIServerClientKubeletSignerName {
		if key, ok := worker.Key(csr); ok {
			c.queue.Add(key)
		}
	}
}

func pending(csr *certv1.CertificateSigningRequest) bool {
	return len(csr.Status.Certificate) == 0 && !certificates.HasCondition(csr, certv1.CertificateApproved) &&
		!certificates.HasCondition(csr, certv1.CertificateDenied) && !certificates.HasCondition(csr, certv1.CertificateFailed)
}

// Subresource is the access a node client CSR's requester must have: its own
// renewal or any node's. "" means the CSR is not a node client request.
func Subresource(csr *certv1.CertificateSigningRequest) string {
	cr, err := certificates.ParseCSR(csr.Spec.Request)
	if err != nil || !certificates.IsNodeClientCSR(csr, cr) {
		return ""
	}
	if certificates.IsSelfNodeClientCSR(csr, cr) {
		return "selfnodeclient"
	}
	return "nodeclient"
}

func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.csrs.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	cached, ok := obj.(*certv1.CertificateSigningRequest)
	if !ok || !pending(cached) {
		return nil
	}
	sub := Subresource(cached)
	if sub == "" {
		return nil
	}
	allowed, err := c.mayCreate(ctx, cached, sub)
	if err != nil || !allowed {
		return err
	}
	csr := cached.DeepCopy()
	now := metav1.NewTime(c.cfg.Clock.Now())
	csr.Status.Conditions = append(csr.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: certv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved",
		Message: "Auto approving kubelet client certificate after SubjectAccessReview.", LastUpdateTime: now, LastTransitionTime: now,
	})
	_, err = c.cfg.Client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("approve csr %s: %w", csr.Name, err)
	}
	c.log.Debug("approved node client csr", "csr", csr.Name, "requester", csr.Spec.Username)
	return nil
}

// mayCreate asks the API whether the CSR's requester may create the subresource.
func (c *Controller) mayCreate(ctx context.Context, csr *certv1.CertificateSigningRequest, sub string) (bool, error) {
	extra := map[string]authzv1.ExtraValue{}
	for k, v := range csr.Spec.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
		ResourceAttributes: &authzv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "certificatesigningrequests",
			Subresource: sub, Verb: "create"},
	}}
	out, err := c.cfg.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("subject access review for csr %s: %w", csr.Name, err)
	}
	return out.Status.Allowed, nil
}
