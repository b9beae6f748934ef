package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// DefaultTable is the name of the proxy's nftables table in each family.
const DefaultTable = "minik8s-proxy"

// TableFor is the table of the node whose pod bridge is bridge: the default
// one for cni0, and one per bridge otherwise, so that test nodes sharing a
// host with another node (different bridges) keep their rules apart.
func TableFor(bridge string) string {
	if bridge == "" || bridge == "cni0" {
		return DefaultTable
	}
	return DefaultTable + "-" + bridge
}

// Config configures a Proxier.
type Config struct {
	// Client reads Services, EndpointSlices and this node's Node.
	Client   kubernetes.Interface
	NodeName string
	// Table is the nftables table's name (DefaultTable if empty).
	Table string
	// MasqueradeBit is the packet mark bit asking for masquerade (kube-proxy's 14).
	MasqueradeBit int
	// NoLocalhostNodePorts stops NodePorts from answering on 127.0.0.1.
	NoLocalhostNodePorts bool
	// Backend applies transactions; nil talks netlink in this namespace.
	Backend nft.Backend
	// Conntrack deletes stale UDP entries; nil uses netlink in this namespace.
	Conntrack Conntrack
	// Check tells why nftables cannot be used; nil asks the kernel.
	Check func() error
	// Listen opens health check listeners; nil is net.Listen.
	Listen func(network, address string) (net.Listener, error)
	// Sysctl sets a kernel parameter ("net/ipv4/conf/all/route_localnet");
	// nil writes /proc/sys.
	Sysctl func(name, value string) error
	// RetryPeriod is the wait after a failed transaction (1s if zero).
	RetryPeriod time.Duration
	// FullSyncPeriod is how often the whole table is replaced even without
	// a failure, repairing rules someone else changed (1h if zero, as
	// kube-proxy's --sync-period in nftables mode).
	FullSyncPeriod time.Duration
	Log            *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("proxy: an API client is required")
	}
	if c.NodeName == "" {
		return errors.New("proxy: the node name is required")
	}
	if c.Table != "" && strings.ContainsAny(c.Table, " \t\n\"") {
		return fmt.Errorf("proxy: nftables table name %q is not valid", c.Table)
	}
	if c.RetryPeriod < 0 || c.FullSyncPeriod < 0 {
		return errors.New("proxy: the retry and full sync periods must not be negative")
	}
	if c.MasqueradeBit < 0 || c.MasqueradeBit > 31 {
		return fmt.Errorf("proxy: masquerade bit %d is not in 0..31", c.MasqueradeBit)
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.MasqueradeBit == 0 {
		c.MasqueradeBit = 14
	}
	if c.Backend == nil {
		c.Backend = &nft.Netlink{}
	}
	if c.Conntrack == nil {
		c.Conntrack = &NetlinkConntrack{}
	}
	if c.Check == nil {
		c.Check = func() error { return nft.Available(0) }
	}
	if c.Listen == nil {
		c.Listen = net.Listen
	}
	if c.Sysctl == nil {
		c.Sysctl = writeProcSys
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = time.Second
	}
	if c.FullSyncPeriod == 0 {
		c.FullSyncPeriod = time.Hour
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

func writeProcSys(name, value string) error {
	p := filepath.Join("/proc/sys", name)
	if cur, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(cur)) == value {
		return nil
	}
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("set %s to %s: %w", strings.ReplaceAll(name, "/", "."), value, err)
	}
	return nil
}
