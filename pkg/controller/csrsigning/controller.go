// Package csrsigning issues certificates for approved CertificateSigningRequests
// of the built-in signers (kubernetes.io/kube-apiserver-client,
// kube-apiserver-client-kubelet and kubelet-serving) with the cluster CA, as
// upstream's csrsigning controller does: Approved and not Failed, no
// certificate yet, the signer's rules met (else a Failed condition with reason
// SignerValidationFailure), for expirationSeconds or the default duration.
package csrsigning

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is upstream's name of the controller.
const Name = "certificatesigningrequest-signing-controller"

// Config wires the controller.
type Config struct {
	Client kubernetes.Interface
	CSRs   certinformers.CertificateSigningRequestInformer
	// CA signs; it is the cluster CA the API server trusts for clients.
	CA *pki.KeyPair
	// MaxDuration caps certificates' lifetime (zero: certificates.DefaultDuration).
	MaxDuration time.Duration
	Workers     int
	Clock       clock.PassiveClock
	Log         *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.CSRs == nil:
		return errors.New("csrsigning controller: a client and a CSR informer are required")
	case c.CA == nil || c.CA.Cert == nil || c.CA.Key == nil:
		return errors.New("csrsigning controller: the CA certificate and key are required")
	case c.Workers < 1:
		return fmt.Errorf("csrsigning controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller signs approved requests.
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
	c := &Controller{cfg: cfg, csrs: inf.GetIndexer(), queue: worker.NewQueue("certificate"), log: log}
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
	if csr, ok := obj.(*certv1.CertificateSigningRequest); ok && NeedsSigning(csr) {
		if key, ok := worker.Key(csr); ok {
			c.queue.Add(key)
		}
	}
}

// NeedsSigning: approved, not failed, no certificate yet, one of our signers.
func NeedsSigning(csr *certv1.CertificateSigningRequest) bool {
	return certificates.IsOurs(csr.Spec.SignerName) && len(csr.Status.Certificate) == 0 &&
		certificates.HasCondition(csr, certv1.CertificateApproved) && !certificates.HasCondition(csr, certv1.CertificateFailed) &&
		!certificates.HasCondition(csr, certv1.CertificateDenied)
}

func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.csrs.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	cached, ok := obj.(*certv1.CertificateSigningRequest)
	if !ok || !NeedsSigning(cached) {
		return nil
	}
	csr := cached.DeepCopy()
	now := c.cfg.Clock.Now()
	cr, err := certificates.ParseCSR(csr.Spec.Request)
	if err == nil {
		err = certificates.ValidateForSigner(csr.Spec.SignerName, cr, csr.Spec.Usages)
	}
	if err != nil {
		// The requester's mistake: record it, do not retry.
		csr.Status.Conditions = append(csr.Status.Conditions, certv1.CertificateSigningRequestCondition{
			Type: certv1.CertificateFailed, Status: corev1.ConditionTrue, Reason: "SignerValidationFailure",
			Message: err.Error(), LastUpdateTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now),
		})
		return c.updateStatus(ctx, csr)
	}
	cert, err := certificates.Sign(c.cfg.CA, cr, csr.Spec.Usages, now, certificates.Duration(&csr.Spec, c.cfg.MaxDuration))
	if err != nil {
		return err
	}
	csr.Status.Certificate = cert
	if err := c.updateStatus(ctx, csr); err != nil {
		return err
	}
	c.log.Debug("signed certificate", "csr", csr.Name, "signer", csr.Spec.SignerName, "subject", cr.Subject.CommonName)
	return nil
}

func (c *Controller) updateStatus(ctx context.Context, csr *certv1.CertificateSigningRequest) error {
	_, err := c.cfg.Client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, csr, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Gone, or changed meanwhile: the informer brings the new state.
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of csr %s: %w", csr.Name, err)
	}
	return nil
}
