// Package csrcleaner deletes CertificateSigningRequests that are done with, as
// upstream's csrcleaner does once an hour: approved or denied or failed ones an
// hour after that happened, pending ones after a day, and any whose issued
// certificate has expired.
package csrcleaner

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// Name is upstream's name of the controller.
const Name = "certificatesigningrequest-cleaner-controller"

// How long CSRs are kept, as upstream keeps them.
const (
	ApprovedExpiration = time.Hour
	DeniedExpiration   = time.Hour
	FailedExpiration   = time.Hour
	PendingExpiration  = 24 * time.Hour
)

// Config wires the controller.
type Config struct {
	Client kubernetes.Interface
	CSRs   certinformers.CertificateSigningRequestInformer
	// Period is how often the CSRs are looked through (zero: an hour).
	Period time.Duration
	Clock  clock.PassiveClock
	Log    *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Client == nil || c.CSRs == nil {
		return errors.New("csrcleaner controller: a client and a CSR informer are required")
	}
	return nil
}

// Controller deletes old CSRs.
type Controller struct {
	cfg    Config
	lister certlisters.CertificateSigningRequestLister
	synced cache.InformerSynced
	log    *slog.Logger
}

// New wires the controller.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Period <= 0 {
		cfg.Period = time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Controller{cfg: cfg, lister: cfg.CSRs.Lister(), synced: cfg.CSRs.Informer().HasSynced, log: log}, nil
}

// Run cleans every period until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return nil
	}
	t := time.NewTicker(c.cfg.Period)
	defer t.Stop()
	for {
		c.Clean(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Clean deletes every CSR that has expired.
func (c *Controller) Clean(ctx context.Context) {
	csrs, err := c.lister.List(labels.Everything())
	if err != nil {
		c.log.Error("list csrs", "err", err)
		return
	}
	now := c.cfg.Clock.Now()
	for _, csr := range csrs {
		if !Expired(csr, now) {
			continue
		}
		uid := csr.UID
		err := c.cfg.Client.CertificatesV1().CertificateSigningRequests().Delete(ctx, csr.Name,
			metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			c.log.Error("delete expired csr", "csr", csr.Name, "err", err)
			continue
		}
		c.log.Debug("deleted expired csr", "csr", csr.Name)
	}
}

// Expired reports whether a CSR is old enough to go.
func Expired(csr *certv1.CertificateSigningRequest, now time.Time) bool {
	if certExpired(csr.Status.Certificate, now) {
		return true
	}
	for _, cond := range csr.Status.Conditions {
		var keep time.Duration
		switch cond.Type {
		case certv1.CertificateApproved:
			keep = ApprovedExpiration
		case certv1.CertificateDenied:
			keep = DeniedExpiration
		case certv1.CertificateFailed:
			keep = FailedExpiration
		default:
			continue
		}
		// Approved but never issued is kept as long as a pending one.
		if cond.Type == certv1.CertificateApproved && len(csr.Status.Certificate) == 0 {
			keep = PendingExpiration
		}
		at := cond.LastUpdateTime.Time
		if at.IsZero() {
			at = csr.CreationTimestamp.Time
		}
		if now.Sub(at) > keep {
			return true
		}
	}
	return len(csr.Status.Conditions) == 0 && now.Sub(csr.CreationTimestamp.Time) > PendingExpiration
}

func certExpired(pemBytes []byte, now time.Time) bool {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	return err == nil && now.After(cert.NotAfter)
}
