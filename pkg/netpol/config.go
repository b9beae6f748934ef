package netpol

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// DefaultTable is the name of the enforcer's nftables table in each family.
const DefaultTable = "minik8s-netpol"

// TableFor is the table of the node whose pod bridge is bridge, named as the
// proxy names its own: nodes sharing a host keep their rules apart.
func TableFor(bridge string) string {
	if bridge == "" || bridge == "cni0" {
		return DefaultTable
	}
	return DefaultTable + "-" + bridge
}

// Config configures an Enforcer.
type Config struct {
	// Client reads NetworkPolicies, Pods and Namespaces.
	Client   kubernetes.Interface
	NodeName string
	// Table is the nftables table's name (DefaultTable if empty).
	Table string
	// Backend applies transactions; nil talks netlink in this namespace.
	Backend nft.Backend
	// Check tells why nftables cannot be used; nil asks the kernel.
	Check func() error
	// RetryPeriod is the wait after a failed transaction (1s if zero).
	RetryPeriod time.Duration
	// FullSyncPeriod is how often the tables are installed again even when
	// nothing changed, repairing rules someone else removed (10m if zero).
	FullSyncPeriod time.Duration
	Log            *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("network policy: an API client is required")
	}
	if c.NodeName == "" {
		return errors.New("network policy: the node name is required")
	}
	if c.Table != "" && strings.ContainsAny(c.Table, " \t\n\"") {
		return fmt.Errorf("network policy: nftables table name %q is not valid", c.Table)
	}
	if c.RetryPeriod < 0 || c.FullSyncPeriod < 0 {
		return errors.New("network policy: the retry and full sync periods must not be negative")
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.Backend == nil {
		c.Backend = &nft.Netlink{}
	}
	if c.Check == nil {
		c.Check = func() error { return nft.Available(0) }
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = time.Second
	}
	if c.FullSyncPeriod == 0 {
		c.FullSyncPeriod = 10 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}
