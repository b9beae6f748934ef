package rules

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// ServicePortName names one port of a Service, as kube-proxy logs it.
type ServicePortName struct {
	Namespace, Name, Port string
	Protocol              corev1.Protocol
}

func (n ServicePortName) String() string {
	s := n.Namespace + "/" + n.Name
	if n.Port != "" {
		s += ":" + n.Port
	}
	return s
}

// ServicePort is what the rules need of one port of a Service, in one family.
type ServicePort struct {
	Name      ServicePortName
	ClusterIP netip.Addr
	Port      uint16
	NodePort  uint16
	// ExternalIPs and LoadBalancerIPs (ipMode VIP only) of the family.
	ExternalIPs     []netip.Addr
	LoadBalancerIPs []netip.Addr
	// AffinityTimeout is sessionAffinity ClientIP's timeout; 0 means none.
	AffinityTimeout time.Duration
	// ExternalLocal and InternalLocal are the traffic policies set to Local.
	ExternalLocal, InternalLocal bool
	HealthCheckNodePort          uint16
}

// ExternallyAccessible reports whether traffic can come from outside the
// cluster: a NodePort, external or load-balancer IPs.
func (sp *ServicePort) ExternallyAccessible() bool {
	return sp.NodePort != 0 || len(sp.ExternalIPs) > 0 || len(sp.LoadBalancerIPs) > 0
}

// externalLocal is externalTrafficPolicy Local on a port it applies to.
func (sp *ServicePort) externalLocal() bool { return sp.ExternalLocal && sp.ExternallyAccessible() }

// usesClusterEndpoints: some traffic may go to any node's endpoints.
func (sp *ServicePort) usesClusterEndpoints() bool {
	return !sp.InternalLocal || (sp.ExternallyAccessible() && !sp.ExternalLocal)
}

// usesLocalEndpoints: some traffic may go only to this node's endpoints.
func (sp *ServicePort) usesLocalEndpoints() bool {
	return sp.InternalLocal || sp.externalLocal()
}

func (sp *ServicePort) proto() nft.Proto {
	switch sp.Name.Protocol {
	case corev1.ProtocolUDP:
		return nft.UDP
	case corev1.ProtocolSCTP:
		return nft.SCTP
	}
	return nft.TCP
}

// Endpoint is one address and port of a Service's port, with its conditions.
type Endpoint struct {
	Addr        netip.Addr
	Port        uint16
	Ready       bool
	Serving     bool
	Terminating bool
	// Local is true for endpoints on this node.
	Local bool
}

func (e Endpoint) String() string { return netip.AddrPortFrom(e.Addr, e.Port).String() }

// Chain name prefixes, as kube-proxy's nftables mode names its chains.
const (
	clusterChainPrefix  = "service-"
	localChainPrefix    = "local-"
	externalChainPrefix = "external-"
	endpointChainPrefix = "endpoint-"
	affinitySetPrefix   = "affinity-"
)

// nameBase is a chain name suffix for a service port: a hash (so truncation
// keeps names unique and similar names look different) and the readable name.
func nameBase(sp *ServicePort) string {
	return hashed(fmt.Sprintf("%s/%s/%s/%s", sp.Name.Namespace, sp.Name.Name, strings.ToLower(string(sp.Name.Protocol)), sp.Name.Port))
}

// endpointNameBase names the chain and affinity set of one endpoint of a port.
func endpointNameBase(sp *ServicePort, ep Endpoint) string {
	ip := strings.ReplaceAll(ep.Addr.String(), ":", ".")
	return hashed(fmt.Sprintf("%s/%s/%s/%s__%s/%d", sp.Name.Namespace, sp.Name.Name, strings.ToLower(string(sp.Name.Protocol)),
		sp.Name.Port, ip, ep.Port))
}

// maxNameBase leaves room for the longest prefix within nftables' 256-byte names.
const maxNameBase = 255 - 16

func hashed(name string) string {
	sum := sha256.Sum256([]byte(name))
	s := base32.StdEncoding.EncodeToString(sum[:])[:8] + "-" + name
	if len(s) > maxNameBase {
		s = s[:maxNameBase-3] + "..."
	}
	return s
}
