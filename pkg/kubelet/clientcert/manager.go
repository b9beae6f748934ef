package clientcert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/atomicfile"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

// Name is the base name of the certificate files in Config.Dir: the node's
// client certificate is Name+".crt" and its key Name+".key".
const Name = "node"

const (
	// requestTimeout bounds the wait for one request's certificate, as
	// upstream's manager gives up on a request after fifteen minutes and
	// makes a new one.
	requestTimeout = 15 * time.Minute
	// maxBackoff caps the wait between failed rotations.
	maxBackoff = 5 * time.Minute
)

// Config configures a Manager.
type Config struct {
	NodeName string
	// Dir holds node.crt and node.key, which the node's API clients read.
	Dir string
	// Client reaches the API server as the node.
	Client kubernetes.Interface
	// Clock tells when to rotate; nil is the real clock.
	Clock clock.Clock
	// Jitter spreads deadlines, in [0, 1); nil is RandomJitter.
	Jitter func() float64
	// PollInterval is how often a pending request is looked at (zero: 1s).
	PollInterval time.Duration
	Log          *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.NodeName == "":
		return errors.New("client certificate manager: a node name is required")
	case c.Dir == "":
		return errors.New("client certificate manager: a certificate directory is required")
	case c.Client == nil:
		return errors.New("client certificate manager: a client is required")
	}
	return nil
}

// Manager renews the node's client certificate before it expires.
type Manager struct {
	cfg Config
	log *slog.Logger
	// rotatedAt is when this manager last wrote a certificate. Signers
	// backdate notBefore by minutes for clocks that lag; counting the
	// lifetime of a certificate this manager just received from then would
	// make a short-lived one look used up on arrival and ask again at once.
	rotatedAt time.Time
}

// New returns a manager; Run starts it.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Jitter == nil {
		cfg.Jitter = RandomJitter
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{cfg: cfg, log: log.With("component", "client-certificate-manager")}, nil
}

// Run renews the certificate at each deadline until ctx ends. A failed
// renewal is retried with a growing wait; only a certificate that cannot be
// read at all stops it.
func (m *Manager) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		kp, err := pki.Load(m.cfg.Dir, Name)
		if err != nil {
			return fmt.Errorf("read the node's client certificate: %w", err)
		}
		start := kp.Cert.NotBefore
		if m.rotatedAt.After(start) {
			start = m.rotatedAt
		}
		deadline := RotationDeadline(start, kp.Cert.NotAfter, m.cfg.Jitter())
		if wait := deadline.Sub(m.cfg.Clock.Now()); wait > 0 {
			m.log.Info("client certificate rotation scheduled", "expiration", kp.Cert.NotAfter, "deadline", deadline)
			if !m.sleep(ctx, wait) {
				return nil
			}
		}
		if err := m.rotate(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			m.log.Error("client certificate rotation failed", "retryIn", backoff, "err", err)
			if !m.sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = time.Second
	}
}

// sleep waits d on the manager's clock; false when ctx ended first.
func (m *Manager) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-m.cfg.Clock.After(d):
		return true
	}
}

// rotate asks for a new certificate now and writes it over the current one.
func (m *Manager) rotate(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	certPEM, keyPEM, err := Request(rctx, m.cfg.Client, m.cfg.NodeName, m.cfg.PollInterval)
	if err != nil {
		return err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("the issued certificate does not fit the key: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("parse the issued certificate: %w", err)
	}
	if want := "system:node:" + m.cfg.NodeName; leaf.Subject.CommonName != want {
		return fmt.Errorf("the issued certificate is for %q, not %q", leaf.Subject.CommonName, want)
	}
	if err := Write(m.cfg.Dir, certPEM, keyPEM); err != nil {
		return err
	}
	m.rotatedAt = m.cfg.Clock.Now()
	m.log.Info("client certificate rotated", "expiration", leaf.NotAfter)
	return nil
}

// Write replaces the node's certificate and key in dir, each atomically and
// readable by root only. The key goes first: a reader that sees the new
// certificate sees its key too, and one that sees the old certificate with
// the new key finds them not matching and keeps what it has.
func Write(dir string, certPEM, keyPEM []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, Name+".key"), keyPEM, 0o600); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, Name+".crt"), certPEM, 0o600)
}
