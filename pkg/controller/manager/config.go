package manager

import (
	"fmt"

	"net/netip"
	"time"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

// Config is what the controller manager is told by the server's flags.
type Config struct {
	// ClusterCIDR is the pod range, cut into NodeCIDRMaskSize ranges per node.
	ClusterCIDR      string
	NodeCIDRMaskSize int
	// ServiceCIDR is kept out of the node ranges when the two overlap.
	ServiceCIDR string
	// CAPEM is the cluster CA published in every namespace.
	CAPEM []byte
	// CA signs approved certificate signing requests; nil signs none.
	CA *pki.KeyPair
	// ServiceAccountSigner signs the tokens of service account token Secrets
	// (upstream's --service-account-private-key-file); nil fills none.
	ServiceAccountSigner *serviceaccount.Signer
	// Disabled names controllers not to run (--disable-controllers).
	Disabled []string
	// TerminatedPodGCThreshold is how many terminated pods the pod garbage
	// collector keeps (--terminated-pod-gc-threshold; 0 keeps them all).
	TerminatedPodGCThreshold int
	// NodeMonitorPeriod and NodeMonitorGracePeriod tune the node lifecycle
	// controller; zero means upstream's defaults.
	NodeMonitorPeriod, NodeMonitorGracePeriod time.Duration
	// HPASyncPeriod is how often each HorizontalPodAutoscaler is reconciled;
	// zero means upstream's 15s.
	HPASyncPeriod time.Duration
	// SigningDuration is the longest lifetime of certificates the csrsigning
	// controller issues (--cluster-signing-duration; zero means a year).
	SigningDuration time.Duration
	// LegacyTokenCleanUpPeriod is how long an auto-generated secret-based
	// token may go unused before it is marked invalid, and stay invalid before
	// it is deleted (--legacy-service-account-token-clean-up-period; zero
	// means upstream's year).
	LegacyTokenCleanUpPeriod time.Duration
	// LeaderElect runs the controllers only while this server holds the
	// kube-system/kube-controller-manager Lease (--leader-elect), so a second
	// server on the same cluster stands by; Identity names this server in it.
	LeaderElect bool
	Identity    string
	// LeaseDuration, RenewDeadline and RetryPeriod tune the election; zero
	// means upstream's 15s, 10s and 2s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// Validate checks the configuration against the known controllers.
func (c *Config) Validate() error {
	if _, err := netip.ParsePrefix(c.ClusterCIDR); err != nil {
		return fmt.Errorf("cluster CIDR %q: %w", c.ClusterCIDR, err)
	}
	if c.NodeCIDRMaskSize <= 0 {
		return fmt.Errorf("node CIDR mask size must be positive, not %d", c.NodeCIDRMaskSize)
	}
	if c.TerminatedPodGCThreshold < 0 {
		return fmt.Errorf("terminated pod GC threshold must not be negative, not %d", c.TerminatedPodGCThreshold)
	}
	if c.NodeMonitorPeriod < 0 || c.NodeMonitorGracePeriod < 0 || c.HPASyncPeriod < 0 || c.SigningDuration < 0 || c.LegacyTokenCleanUpPeriod < 0 {
		return fmt.Errorf("controller periods and the signing duration must not be negative")
	}
	if c.NodeMonitorPeriod > 0 && c.NodeMonitorGracePeriod > 0 && c.NodeMonitorPeriod > c.NodeMonitorGracePeriod {
		return fmt.Errorf("the node monitor period (%s) must not exceed the node monitor grace period (%s)", c.NodeMonitorPeriod, c.NodeMonitorGracePeriod)
	}
	if c.LeaderElect && c.Identity == "" {
		return fmt.Errorf("leader election needs an identity")
	}
	_, err := disabledSet(Descriptors(), c.Disabled)
	return err
}
