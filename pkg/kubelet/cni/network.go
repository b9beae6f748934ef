package cni

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Network prepares and undoes the node's pod network.
type Network struct {
	cfg     Config
	log     *slog.Logger
	sysctls *sysctls
}

// New checks cfg.
func New(cfg Config, log *slog.Logger) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Network{cfg: cfg, log: log.With("component", "cni"), sysctls: &sysctls{file: cfg.sysctlFile()}}, nil
}

// Config is the network's configuration.
func (n *Network) Config() Config { return n.cfg }

// Setup makes the host ready for containerd to attach pods: forwarding on,
// bridged traffic through iptables (Services reach pods on the same bridge),
// the bridge up with the gateway address, and the conflist written. It is
// idempotent, and leaves alone what an earlier start already did.
func (n *Network) Setup() error {
	c := &n.cfg
	if err := c.checkPlugins(); err != nil {
		return err
	}
	for _, d := range []string{c.Dir, c.ConfDir(), c.IPAMDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("set up pod network: %w", err)
		}
	}
	if err := n.sysctls.Set("net/ipv4/ip_forward", "1"); err != nil {
		return fmt.Errorf("set up pod network: %w", err)
	}
	if err := n.sysctls.Set("net/bridge/bridge-nf-call-iptables", "1"); err != nil {
		// br_netfilter is not built in: pods still get addresses, but a pod
		// reaching a Service whose endpoint is on this bridge is not DNATed.
		n.log.Warn("bridged traffic bypasses iptables; Services backed by pods on this node may not answer", "err", err)
	}

	gw, err := c.Gateway()
	if err != nil {
		return err
	}
	created, err := ensureBridge(c.BridgeName, gw)
	if created {
		// Recorded even on a later error, so Teardown removes what was made.
		if err := os.WriteFile(c.bridgeMarker(), []byte(c.BridgeName+"\n"), 0o644); err != nil {
			n.log.Warn("cannot record that the bridge was created here", "err", err)
		}
	}
	if err != nil {
		return fmt.Errorf("set up pod network: %w", err)
	}
	// Pods reach an API server listening on 127.0.0.1 through a DNAT to
	// loopback, which the kernel only routes with route_localnet.
	if err := n.sysctls.Set(filepath.Join("net/ipv4/conf", c.BridgeName, "route_localnet"), "1"); err != nil {
		return fmt.Errorf("set up pod network: %w", err)
	}

	if err := c.setNodeRules(); err != nil {
		return fmt.Errorf("set up pod network: %w", err)
	}
	if err := c.allowForward(); err != nil {
		return fmt.Errorf("set up pod network: %w", err)
	}
	conf, err := c.Conflist()
	if err != nil {
		return err
	}
	// Rewritten only on change: containerd reloads the directory when it changes.
	if old, err := os.ReadFile(c.ConfFile()); err != nil || !bytes.Equal(old, conf) {
		if err := writeFileAtomic(c.ConfFile(), conf, 0o644); err != nil {
			return fmt.Errorf("write CNI conflist: %w", err)
		}
	}
	n.log.Info("pod network ready", "bridge", c.BridgeName, "gateway", gw, "bridge_created", created, "conflist", c.ConfFile())
	return nil
}

// Teardown undoes Setup: it removes the conflist and the address leases,
// restores the sysctls it changed and deletes the bridge if Setup created it.
// Pods must be gone first (their veths and masquerade rules go with them).
func (n *Network) Teardown() error {
	c := &n.cfg
	var errs []error
	if err := c.deleteNodeRules(); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(c.ConfFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := n.sysctls.Restore(); err != nil {
		errs = append(errs, err)
	}
	if _, err := os.Stat(c.bridgeMarker()); err == nil {
		if err := deleteBridge(c.BridgeName); err != nil {
			errs = append(errs, err)
		} else {
			_ = os.Remove(c.bridgeMarker())
		}
	}
	if err := os.RemoveAll(c.IPAMDir()); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tear down pod network: %w", err)
	}
	return nil
}
