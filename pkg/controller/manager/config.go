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
}

// Validate checks the configuration against the known controllers.
func (c *Config) Validate() error {
	if _, err := netip.ParsePrefix(c.ClusterCIDR); err != nil {
		return fmt.Errorf("cluster CIDR %q: %w", c.ClusterCIDR, err)
	}
	if c.NodeCIDRMaskSize <= 0 {
		return fmt.Errorf("node CIDR mask size must be positive, not %d", c.NodeCIDRMaskSize)
	}
	_, err := disabledSet(Descriptors(), c.Disabled)
	return err
}
