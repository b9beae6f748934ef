package rules

import (
	"errors"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/proxy/netnstest"
	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// lab is a small network: a client and two backends each in a namespace,
// connected to a "node" namespace that holds the proxy's table and routes.
//
//	client 10.0.1.2 ── 10.0.1.1 node 10.244.0.1  ── 10.244.0.5  backend a
//	                                 10.244.0.65 ── 10.244.0.66 backend b
type lab struct {
	t              *testing.T
	node, client   *netnstest.NS
	backA, backB   *netnstest.NS
	cfg            *Config
	state          *State
	backend        nft.Backend
	now            time.Time
	clientAddr     string
	nodeClientSide string
}

func newLab(t *testing.T) *lab {
	netnstest.Require(t)
	l := &lab{t: t, node: netnstest.New(t, "node"), client: netnstest.New(t, "client"),
		backA: netnstest.New(t, "a"), backB: netnstest.New(t, "b"), now: time.Unix(1000, 0),
		clientAddr: "10.0.1.2", nodeClientSide: "10.0.1.1"}
	// The node's routes send Service IPs back out towards the client; the ICMP
	// redirect that would go with that takes the place of a reject's ICMP
	// error. Real nodes route Service IPs out of another interface.
	l.node.Run("sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0")
	netnstest.Link(t, l.node, "10.0.1.1/24", l.client, "10.0.1.2/24")
	netnstest.Link(t, l.node, "10.244.0.1/26", l.backA, "10.244.0.5/26")
	netnstest.Link(t, l.node, "10.244.0.65/26", l.backB, "10.244.0.66/26")
	l.client.Run("ip", "route", "add", "default", "via", "10.0.1.1")
	l.backA.Run("ip", "route", "add", "default", "via", "10.244.0.1")
	l.backB.Run("ip", "route", "add", "default", "via", "10.244.0.65")
	l.node.Run("sysctl", "-qw", "net.ipv4.ip_forward=1")
	l.node.Run("sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1")
	// The node reaches Service IPs through some route, as hosts do by default.
	l.node.Run("ip", "route", "add", "default", "via", "10.0.1.2")
	l.cfg = &Config{Family: nft.IPv4, Table: "minik8s-proxy", MasqueradeBit: 14,
		LocalCIDR: netip.MustParsePrefix("10.244.0.0/24"), LocalhostNodePorts: true}
	l.state = NewState(l.cfg)
	l.backend = &nft.Netlink{NetNS: l.node.Fd()}
	if err := l.backend.Apply(l.state.Full()); err != nil {
		t.Fatal(err)
	}
	return l
}

// set installs a service port with endpoints on the backends.
func (l *lab) set(sp *ServicePort, eps ...Endpoint) {
	l.t.Helper()
	l.state.Set(sp.Name.String(), Service(l.cfg, sp, eps))
	l.now = l.now.Add(time.Second)
	if err := l.backend.Apply(l.state.Changes(l.now)); err != nil {
		l.t.Fatal(err)
	}
}

func backendOf(answer string) string { return strings.Fields(answer + " ?")[0] }

func TestClusterIPSpreadsTCPOverEveryEndpoint(t *testing.T) {
	l := newLab(t)
	netnstest.ServeTCP(t, l.backA, "10.244.0.5:8080", "a")
	netnstest.ServeTCP(t, l.backB, "10.244.0.66:8080", "b")
	l.set(port("default", "web", "", corev1.ProtocolTCP, "10.96.0.20", 80),
		ready("10.244.0.5", 8080, true), ready("10.244.0.66", 8080, true))
	seen := map[string]int{}
	for i := 0; i < 40; i++ {
		got, err := netnstest.AskTCP(l.client, "10.96.0.20:80")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		seen[backendOf(got)]++
		// From outside the pod range: masqueraded to the node's address.
		if !strings.Contains(got, "10.244.0.") {
			t.Errorf("client address not masqueraded: %q", got)
		}
	}
	if seen["a"] < 5 || seen["b"] < 5 {
		t.Errorf("40 requests spread as %v, want both backends used", seen)
	}
}

func TestUDPReachesTheEndpointAndComesBack(t *testing.T) {
	l := newLab(t)
	netnstest.ServeUDP(t, l.backA, "10.244.0.5:5353", "a")
	l.set(port("kube-system", "dns", "dns", corev1.ProtocolUDP, "10.96.0.10", 53), ready("10.244.0.5", 5353, true))
	got, err := netnstest.AskUDP(l.client, "10.96.0.10:53")
	if err != nil || backendOf(got) != "a" {
		t.Fatalf("UDP answer %q, %v", got, err)
	}
}

func TestClientIPAffinityKeepsAClientOnOneEndpoint(t *testing.T) {
	l := newLab(t)
	netnstest.ServeTCP(t, l.backA, "10.244.0.5:8080", "a")
	netnstest.ServeTCP(t, l.backB, "10.244.0.66:8080", "b")
	sp := port("default", "sticky", "", corev1.ProtocolTCP, "10.96.0.70", 80)
	sp.AffinityTimeout = time.Hour
	l.set(sp, ready("10.244.0.5", 8080, true), ready("10.244.0.66", 8080, true))
	first := ""
	for i := 0; i < 20; i++ {
		got, err := netnstest.AskTCP(l.client, "10.96.0.70:80")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if first == "" {
			first = backendOf(got)
		}
		if backendOf(got) != first {
			t.Fatalf("request %d went to %s, the first to %s", i, backendOf(got), first)
		}
	}
}

func TestAServiceWithoutEndpointsRefusesConnections(t *testing.T) {
	l := newLab(t)
	l.set(port("default", "nobody", "", corev1.ProtocolTCP, "10.96.0.40", 80))
	start := time.Now()
	_, err := netnstest.AskTCP(l.client, "10.96.0.40:80")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("want connection refused (ICMP port unreachable), got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v; a reject is immediate", d)
	}
	// An unknown port of a ClusterIP is refused too.
	l.set(port("default", "one-port", "", corev1.ProtocolTCP, "10.96.0.41", 80), ready("10.244.0.5", 8080, true))
	if _, err := netnstest.AskTCP(l.client, "10.96.0.41:81"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("unknown port of a ClusterIP: got %v", err)
	}
}

func TestNodePortAnswersOnTheNodeAddressAndOnLocalhost(t *testing.T) {
	l := newLab(t)
	netnstest.ServeTCP(t, l.backA, "10.244.0.5:8080", "a")
	sp := port("default", "shop", "", corev1.ProtocolTCP, "10.96.0.30", 80)
	sp.NodePort = 30080
	l.set(sp, ready("10.244.0.5", 8080, true))
	if got, err := netnstest.AskTCP(l.client, "10.0.1.1:30080"); err != nil || backendOf(got) != "a" {
		t.Fatalf("NodePort from the client: %q, %v", got, err)
	}
	// From the node itself, on loopback (route_localnet) and on its address.
	for _, addr := range []string{"127.0.0.1:30080", "10.244.0.1:30080", "10.96.0.30:80"} {
		if got, err := netnstest.AskTCP(l.node, addr); err != nil || backendOf(got) != "a" {
			t.Errorf("%s from the node: %q, %v", addr, got, err)
		}
	}
}

func TestAPodReachingItselfThroughItsServiceIsMasqueraded(t *testing.T) {
	l := newLab(t)
	netnstest.ServeTCP(t, l.backA, "10.244.0.5:8080", "a")
	l.set(port("default", "self", "", corev1.ProtocolTCP, "10.96.0.50", 80), ready("10.244.0.5", 8080, true))
	got, err := netnstest.AskTCP(l.backA, "10.96.0.50:80")
	if err != nil {
		t.Fatalf("hairpin: %v", err)
	}
	if !strings.Contains(got, "10.244.0.1:") {
		t.Errorf("hairpin connection should come from the node's address, got %q", got)
	}
}

func TestRemovingTheLastEndpointRejectsAgainAndAChangeIsLiveAtOnce(t *testing.T) {
	l := newLab(t)
	netnstest.ServeTCP(t, l.backA, "10.244.0.5:8080", "a")
	netnstest.ServeTCP(t, l.backB, "10.244.0.66:8080", "b")
	sp := port("default", "web", "", corev1.ProtocolTCP, "10.96.0.20", 80)
	l.set(sp, ready("10.244.0.5", 8080, true))
	if got, _ := netnstest.AskTCP(l.client, "10.96.0.20:80"); backendOf(got) != "a" {
		t.Fatalf("before: %q", got)
	}
	l.set(sp, ready("10.244.0.66", 8080, true))
	for i := 0; i < 5; i++ {
		if got, _ := netnstest.AskTCP(l.client, "10.96.0.20:80"); backendOf(got) != "b" {
			t.Fatalf("after moving the endpoint: %q", got)
		}
	}
	l.set(sp)
	if _, err := netnstest.AskTCP(l.client, "10.96.0.20:80"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("after removing it: %v", err)
	}
	l.state.Set(sp.Name.String(), nil)
	if err := l.backend.Apply(l.state.Changes(l.now.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	// A deleted Service's IP is nobody's: no rule answers for it.
	if _, err := netnstest.AskTCP(l.client, "10.96.0.20:80"); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("deleted Service still answers")
	}
}
