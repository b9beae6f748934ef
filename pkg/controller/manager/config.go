package manager

import (
	"fmt"
	"net/netip"
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
	// Disabled names controllers not to run (--disable-controllers).
	Disabled []string
	// TerminatedPodGCThreshold is how many terminated pods the pod garbage
	// collector keeps (--terminated-pod-gc-threshold; 0 keeps them all).
	TerminatedPodGCThreshold int
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
	_, err := disabledSet(Descriptors(), c.Disabled)
	return err
}
