package cni

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
)

// Plugins are the CNI executables the conflist uses; containerd also runs
// loopback itself for each sandbox's lo.
var Plugins = []string{"bridge", "host-local", "portmap", "firewall", "loopback"}

// binDirs are where distributions put the plugins: Debian's package uses
// /usr/lib/cni, upstream tarballs /opt/cni/bin.
var binDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// Config describes the node's pod network.
type Config struct {
	// NetworkName names the network in the conflist and in CNI's result cache.
	NetworkName string
	// BridgeName is the Linux bridge pods attach to (at most 15 bytes).
	BridgeName string
	// PodCIDR is this node's share of the cluster's pod range; its first
	// address is the bridge's, the pods' gateway and the node's IP.
	PodCIDR string
	// Dir holds net.d/ (the conflist containerd reads), ipam/ (host-local's
	// leases) and what Teardown needs to undo Setup.
	Dir string
	// BinDir holds the plugin executables.
	BinDir string
}

// DefaultConfig is the pod network of a node agent whose state is under agentDir.
func DefaultConfig(agentDir, podCIDR string) Config {
	return Config{
		NetworkName: "minik8s",
		BridgeName:  "cni0",
		PodCIDR:     podCIDR,
		Dir:         filepath.Join(agentDir, "cni"),
		BinDir:      DefaultBinDir(),
	}
}

// DefaultBinDir is the first known plugin directory that has the bridge plugin.
func DefaultBinDir() string {
	for _, d := range binDirs {
		if fi, err := os.Stat(filepath.Join(d, "bridge")); err == nil && fi.Mode().IsRegular() {
			return d
		}
	}
	return binDirs[0]
}

// networkName is what libcni accepts as a network name.
var networkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// Validate checks the configuration.
func (c *Config) Validate() error {
	if !networkName.MatchString(c.NetworkName) {
		return fmt.Errorf("CNI network name %q: want letters, digits, '_', '.' or '-'", c.NetworkName)
	}
	if c.BridgeName == "" || len(c.BridgeName) > 15 || !networkName.MatchString(c.BridgeName) {
		return fmt.Errorf("bridge name %q: want 1 to 15 letters, digits, '_', '.' or '-'", c.BridgeName)
	}
	if _, err := c.subnet(); err != nil {
		return err
	}
	if !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("CNI dir %q must be an absolute path", c.Dir)
	}
	if !filepath.IsAbs(c.BinDir) {
		return fmt.Errorf("CNI bin dir %q must be an absolute path", c.BinDir)
	}
	return nil
}

// subnet parses PodCIDR: an IPv4 network with room for a gateway and pods.
func (c *Config) subnet() (*net.IPNet, error) {
	ip, n, err := net.ParseCIDR(c.PodCIDR)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR: %w", err)
	}
	if ip.To4() == nil {
		return nil, fmt.Errorf("pod CIDR %s: only IPv4 is supported", c.PodCIDR)
	}
	if !ip.Equal(n.IP) {
		return nil, fmt.Errorf("pod CIDR %s has host bits set (network is %s)", c.PodCIDR, n)
	}
	if ones, _ := n.Mask.Size(); ones > 30 {
		return nil, fmt.Errorf("pod CIDR %s is too small: a /30 or larger leaves room for pods", c.PodCIDR)
	}
	return n, nil
}

// Gateway is the bridge's address with the pod CIDR's prefix, e.g.
// 10.244.0.1/24: the pods' default gateway and the node's InternalIP.
func (c *Config) Gateway() (*net.IPNet, error) {
	n, err := c.subnet()
	if err != nil {
		return nil, err
	}
	gw := make(net.IP, 4)
	copy(gw, n.IP.To4())
	gw[3]++
	return &net.IPNet{IP: gw, Mask: n.Mask}, nil
}

// ConfDir is where containerd's CRI reads the conflist.
func (c *Config) ConfDir() string { return filepath.Join(c.Dir, "net.d") }

// ConfFile is the conflist.
func (c *Config) ConfFile() string {
	return filepath.Join(c.ConfDir(), "10-"+c.NetworkName+".conflist")
}

// IPAMDir holds host-local's address leases.
func (c *Config) IPAMDir() string { return filepath.Join(c.Dir, "ipam") }

func (c *Config) bridgeMarker() string { return filepath.Join(c.Dir, "bridge-created") }
func (c *Config) sysctlFile() string   { return filepath.Join(c.Dir, "sysctl-original.json") }

// checkPlugins reports the plugins missing from BinDir.
func (c *Config) checkPlugins() error {
	var missing []string
	for _, p := range Plugins {
		if fi, err := os.Stat(filepath.Join(c.BinDir, p)); err != nil || fi.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("CNI plugins %v missing from %s (Debian: apt-get install containernetworking-plugins)", missing, c.BinDir)
	}
	return nil
}
