package cni

import (
	"encoding/json"
	"fmt"
)

// cniVersion is the newest spec version Debian 12's plugins (1.1.1) and
// containerd 1.6's libcni both speak.
const cniVersion = "1.0.0"

// The conflist's shape, in the field order the CNI spec's examples use.
type (
	conflist struct {
		CNIVersion string `json:"cniVersion"`
		Name       string `json:"name"`
		Plugins    []any  `json:"plugins"`
	}
	bridgePlugin struct {
		Type        string `json:"type"`
		Bridge      string `json:"bridge"`
		IsGateway   bool   `json:"isGateway"`
		IPMasq      bool   `json:"ipMasq"`
		HairpinMode bool   `json:"hairpinMode"`
		IPAM        ipam   `json:"ipam"`
	}
	ipam struct {
		Type    string        `json:"type"`
		DataDir string        `json:"dataDir"`
		Ranges  [][]ipamRange `json:"ranges"`
		Routes  []ipamRoute   `json:"routes"`
	}
	ipamRange struct {
		Subnet  string `json:"subnet"`
		Gateway string `json:"gateway"`
	}
	ipamRoute struct {
		Dst string `json:"dst"`
	}
	plainPlugin struct {
		Type         string          `json:"type"`
		Capabilities map[string]bool `json:"capabilities,omitempty"`
	}
)

// Conflist returns the network configuration containerd hands the plugins.
func (c *Config) Conflist() ([]byte, error) {
	subnet, err := c.subnet()
	if err != nil {
		return nil, err
	}
	gw, err := c.Gateway()
	if err != nil {
		return nil, err
	}
	list := conflist{
		CNIVersion: cniVersion,
		Name:       c.NetworkName,
		Plugins: []any{
			bridgePlugin{
				Type:   "bridge",
				Bridge: c.BridgeName,
				// The bridge holds the gateway address and pods route through it.
				// Masquerading is one node-wide rule (masquerade.go), not the
				// plugin's per-pod iptables chains, which serialize every pod start
				// on the xtables lock.
				IsGateway: true,
				IPMasq:    false,
				// A pod reaching itself through a Service comes back in on its own port.
				HairpinMode: true,
				IPAM: ipam{
					Type:    "host-local",
					DataDir: c.IPAMDir(),
					Ranges:  [][]ipamRange{{{Subnet: subnet.String(), Gateway: gw.IP.String()}}},
					Routes:  []ipamRoute{{Dst: "0.0.0.0/0"}},
				},
			},
			// hostPort: containerd passes the pod's port mappings as a capability.
			// Forwarding of pod traffic on hosts whose FORWARD policy drops it is,
			// like masquerading, a node-wide rule (masquerade.go).
			plainPlugin{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode CNI conflist: %w", err)
	}
	return append(b, '\n'), nil
}
