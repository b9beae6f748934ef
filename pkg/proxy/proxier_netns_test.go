package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/minik8s/minik8s/pkg/proxy/netnstest"
	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// nodeLab is a node (a network namespace) running the proxier against a
// fake API, with a client outside the pod range and two backend pods:
//
//	client 10.0.1.2 ── 10.0.1.1 node 10.244.0.1  ── 10.244.0.5  pod a
//	                                 10.244.0.65 ── 10.244.0.66 pod b
type nodeLab struct {
	t            *testing.T
	node, client *netnstest.NS
	podA, podB   *netnstest.NS
	api          *fake.Clientset
	stop         func()
}

func newNodeLab(t *testing.T) *nodeLab {
	netnstest.Require(t)
	l := &nodeLab{t: t, node: netnstest.New(t, "node"), client: netnstest.New(t, "client"),
		podA: netnstest.New(t, "a"), podB: netnstest.New(t, "b")}
	l.node.Run("sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0", "net.ipv4.ip_forward=1")
	netnstest.Link(t, l.node, "10.0.1.1/24", l.client, "10.0.1.2/24")
	netnstest.Link(t, l.node, "10.244.0.1/26", l.podA, "10.244.0.5/26")
	netnstest.Link(t, l.node, "10.244.0.65/26", l.podB, "10.244.0.66/26")
	l.client.Run("ip", "route", "add", "default", "via", "10.0.1.1")
	l.podA.Run("ip", "route", "add", "default", "via", "10.244.0.1")
	l.podB.Run("ip", "route", "add", "default", "via", "10.244.0.65")
	l.node.Run("ip", "route", "add", "default", "via", "10.0.1.2")
	l.api = fake.NewClientset()
	l.create(testNode())
	return l
}

// start runs a proxier in the node namespace until stopped or the test ends.
func (l *nodeLab) start() {
	l.t.Helper()
	fd := l.node.Fd()
	cfg := Config{Client: l.api, NodeName: "node-a", Backend: &nft.Netlink{NetNS: fd}, Conntrack: &NetlinkConntrack{NetNS: fd},
		Check: func() error { return nft.Available(fd) },
		Listen: func(network, addr string) (ln net.Listener, err error) {
			l.node.Do(func() { ln, err = net.Listen(network, addr) })
			return ln, err
		},
		Sysctl: func(name, value string) error {
			_, err := l.node.Try("sysctl", "-qw", strings.ReplaceAll(name, "/", ".")+"="+value)
			return err
		},
		Log: slog.New(slog.DiscardHandler)}
	p, err := New(cfg)
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	netnstest.Eventually(l.t, 10*time.Second, func() error {
		if !p.Installed() {
			return errors.New("the proxier has not installed its rules")
		}
		return nil
	})
	stopped := false
	l.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				l.t.Errorf("proxier: %v", err)
			}
		}
	}
	l.t.Cleanup(l.stop)
}

func (l *nodeLab) create(objs ...any) {
	l.t.Helper()
	ctx := context.Background()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Node:
			_, err = l.api.CoreV1().Nodes().Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Service:
			_, err = l.api.CoreV1().Services(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *discoveryv1.EndpointSlice:
			_, err = l.api.DiscoveryV1().EndpointSlices(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			l.t.Fatal(err)
		}
	}
}

func (l *nodeLab) updateSlice(s *discoveryv1.EndpointSlice) {
	l.t.Helper()
	s.ResourceVersion = fmt.Sprint(time.Now().UnixNano())
	if _, err := l.api.DiscoveryV1().EndpointSlices(s.Namespace).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		l.t.Fatal(err)
	}
}

// answers waits until a request from ns to addr is answered by want.
func answers(t *testing.T, ns *netnstest.NS, proto, addr, want string) {
	t.Helper()
	netnstest.Eventually(t, 5*time.Second, func() error {
		ask := netnstest.AskTCP
		if proto == "udp" {
			ask = netnstest.AskUDP
		}
		got, err := ask(ns, addr)
		if err != nil {
			return fmt.Errorf("%s %s: %v", proto, addr, err)
		}
		if who := strings.Fields(got + " ?")[0]; want != "" && who != want {
			return fmt.Errorf("%s %s answered by %q, want %s", proto, addr, got, want)
		}
		return nil
	})
}

func webAndDNS() []any {
	web := service("web", func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = 30080
	})
	dns := service("dns", func(s *corev1.Service) {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
		s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}
	})
	return []any{web, dns,
		slice("web", "web-1", discoveryv1.AddressTypeIPv4, "http", 8080, corev1.ProtocolTCP,
			ep{"10.244.0.5", "node-a", true, false}, ep{"10.244.0.66", "node-a", true, false}),
		slice("dns", "dns-1", discoveryv1.AddressTypeIPv4, "dns", 5353, corev1.ProtocolUDP, ep{"10.244.0.5", "node-a", true, false})}
}

func TestTheProxierCarriesTCPAndUDPThroughClusterIPsAndNodePorts(t *testing.T) {
	l := newNodeLab(t)
	netnstest.ServeTCP(t, l.podA, "10.244.0.5:8080", "a")
	netnstest.ServeTCP(t, l.podB, "10.244.0.66:8080", "b")
	netnstest.ServeUDP(t, l.podA, "10.244.0.5:5353", "a")
	l.create(webAndDNS()...)
	l.start()
	answers(t, l.client, "tcp", "10.96.0.20:80", "")
	answers(t, l.client, "udp", "10.96.0.10:53", "a")
	answers(t, l.client, "tcp", "10.0.1.1:30080", "")
	answers(t, l.node, "tcp", "127.0.0.1:30080", "")
	seen := map[string]bool{}
	for i := 0; i < 30; i++ {
		got, err := netnstest.AskTCP(l.client, "10.96.0.20:80")
		if err != nil {
			t.Fatal(err)
		}
		seen[strings.Fields(got)[0]] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Errorf("30 requests went only to %v", seen)
	}
	// A pod reaching itself through its Service.
	answers(t, l.podA, "tcp", "10.96.0.20:80", "")

	// A Service without endpoints refuses at once.
	l.create(service("empty", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.40", []string{"10.96.0.40"} }))
	netnstest.Eventually(t, 5*time.Second, func() error {
		_, err := netnstest.AskTCP(l.client, "10.96.0.40:80")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("want connection refused, got %v", err)
		}
		return nil
	})
}

func TestSessionAffinityKeepsAClientOnOneEndpoint(t *testing.T) {
	l := newNodeLab(t)
	netnstest.ServeTCP(t, l.podA, "10.244.0.5:8080", "a")
	netnstest.ServeTCP(t, l.podB, "10.244.0.66:8080", "b")
	l.create(service("sticky", func(s *corev1.Service) {
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptrInt32(600)}}
	}), slice("sticky", "sticky-1", discoveryv1.AddressTypeIPv4, "http", 8080, corev1.ProtocolTCP,
		ep{"10.244.0.5", "node-a", true, false}, ep{"10.244.0.66", "node-a", true, false}))
	l.start()
	answers(t, l.client, "tcp", "10.96.0.20:80", "")
	first, _ := netnstest.AskTCP(l.client, "10.96.0.20:80")
	for i := 0; i < 20; i++ {
		got, err := netnstest.AskTCP(l.client, "10.96.0.20:80")
		if err != nil || strings.Fields(got)[0] != strings.Fields(first)[0] {
			t.Fatalf("request %d: %q, %v; the first went to %q", i, got, err, first)
		}
	}
}

func TestAUDPClientMovesOnWhenItsEndpointGoes(t *testing.T) {
	l := newNodeLab(t)
	netnstest.ServeUDP(t, l.podA, "10.244.0.5:5353", "a")
	netnstest.ServeUDP(t, l.podB, "10.244.0.66:5353", "b")
	dns := service("dns", func(s *corev1.Service) {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
		s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}
	})
	sl := slice("dns", "dns-1", discoveryv1.AddressTypeIPv4, "dns", 5353, corev1.ProtocolUDP, ep{"10.244.0.5", "node-a", true, false})
	l.create(dns, sl)
	l.start()
	// One socket, one source port: one conntrack entry, as a resolver's.
	var c net.Conn
	var err error
	l.client.Do(func() { c, err = net.Dial("udp", "10.96.0.10:53") })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func() string {
		_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := c.Write([]byte("ping")); err != nil {
			return err.Error()
		}
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err != nil {
			return err.Error()
		}
		return strings.Fields(string(buf[:n]))[0]
	}
	netnstest.Eventually(t, 5*time.Second, func() error {
		if got := ask(); got != "a" {
			return fmt.Errorf("answered %q", got)
		}
		return nil
	})
	// a leaves the Service (it still answers, so a stale entry would show).
	l.updateSlice(slice("dns", "dns-1", discoveryv1.AddressTypeIPv4, "dns", 5353, corev1.ProtocolUDP, ep{"10.244.0.66", "node-a", true, false}))
	netnstest.Eventually(t, 5*time.Second, func() error {
		if got := ask(); got != "b" {
			return fmt.Errorf("the same client socket is still answered by %q", got)
		}
		return nil
	})
}

func TestExternalTrafficPolicyLocalAnswersTheHealthCheckNodePort(t *testing.T) {
	l := newNodeLab(t)
	netnstest.ServeTCP(t, l.podA, "10.244.0.5:8080", "a")
	l.create(service("lb", func(s *corev1.Service) {
		s.Spec.Type, s.Spec.ExternalTrafficPolicy = corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.Ports[0].NodePort, s.Spec.HealthCheckNodePort = 30090, 32100
	}), slice("lb", "lb-1", discoveryv1.AddressTypeIPv4, "http", 8080, corev1.ProtocolTCP,
		ep{"10.244.0.5", "node-a", true, false}, ep{"10.244.1.9", "node-b", true, false}))
	l.start()
	var body string
	netnstest.Eventually(t, 5*time.Second, func() error {
		var resp *http.Response
		var err error
		// The client dials from its namespace; the request travels to the node's listener.
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			l.client.Do(func() { c, err = net.DialTimeout(network, addr, time.Second) })
			return c, err
		}}
		defer tr.CloseIdleConnections()
		resp, err = (&http.Client{Transport: tr, Timeout: 2 * time.Second}).Get("http://10.0.1.1:32100/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil
	})
	if !strings.Contains(body, `"localEndpoints":1`) || !strings.Contains(body, `"name":"lb"`) {
		t.Errorf("health check body %q", body)
	}
	// The client's own address reaches the local endpoint (no masquerade).
	answers(t, l.client, "tcp", "10.0.1.1:30090", "a")
	got, _ := netnstest.AskTCP(l.client, "10.0.1.1:30090")
	if !strings.Contains(got, "10.0.1.2:") {
		t.Errorf("externalTrafficPolicy Local should keep the client's address, got %q", got)
	}
}

func TestARestartedProxierKeepsTrafficFlowingAndCleanupRemovesTheTable(t *testing.T) {
	l := newNodeLab(t)
	netnstest.ServeTCP(t, l.podA, "10.244.0.5:8080", "a")
	netnstest.ServeTCP(t, l.podB, "10.244.0.66:8080", "b")
	netnstest.ServeUDP(t, l.podA, "10.244.0.5:5353", "a")
	l.create(webAndDNS()...)
	l.start()
	answers(t, l.client, "tcp", "10.96.0.20:80", "")
	l.stop()
	// Stopped: the rules stay.
	answers(t, l.client, "tcp", "10.96.0.20:80", "")
	answers(t, l.client, "udp", "10.96.0.10:53", "a")
	// A connection open across the restart keeps working.
	var c net.Conn
	var err error
	l.client.Do(func() { c, err = net.DialTimeout("tcp", "10.96.0.20:80", time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.start()
	answers(t, l.client, "tcp", "10.0.1.1:30080", "")
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if b, err := io.ReadAll(io.LimitReader(c, 64)); err != nil || len(b) == 0 {
		t.Errorf("connection across the restart: %q, %v", b, err)
	}
	l.stop()
	if err := Cleanup(l.node.Fd(), ""); err != nil {
		t.Fatal(err)
	}
	if chains, err := nft.ListChains(l.node.Fd(), nft.IPv4, DefaultTable); err != nil || len(chains) != 0 {
		t.Errorf("after cleanup: chains %v, %v", chains, err)
	}
	if _, err := netnstest.AskTCP(l.client, "10.96.0.20:80"); err == nil {
		t.Errorf("the ClusterIP still answers after cleanup")
	}
}

func ptrInt32(v int32) *int32 { return &v }

// A deleted Service stops answering new connections, from outside the node
// and from the node itself, while its EndpointSlices still exist (the garbage
// collector removes them later).
func TestADeletedServiceStopsAnsweringNewConnections(t *testing.T) {
	l := newNodeLab(t)
	netnstest.ServeTCP(t, l.podA, "10.244.0.5:8080", "a")
	netnstest.ServeTCP(t, l.podB, "10.244.0.66:8080", "b")
	l.create(webAndDNS()...)
	cidr := &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes"},
		Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.96.0.0/12"}}}
	if _, err := l.api.NetworkingV1().ServiceCIDRs().Create(context.Background(), cidr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	l.start()
	answers(t, l.client, "tcp", "10.96.0.20:80", "")
	answers(t, l.node, "tcp", "10.96.0.20:80", "")
	// Addresses of the range that no Service holds are dropped, not routed
	// off the node (where something else might answer them).
	if out := l.node.Run("nft", "list", "chain", "ip", DefaultTable, "cluster-ips-check"); !strings.Contains(out, "ip daddr 10.96.0.0/12 drop") {
		t.Errorf("cluster-ips-check does not drop the service range:\n%s", out)
	}
	if err := l.api.CoreV1().Services("default").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, from := range []*netnstest.NS{l.node, l.client} {
		netnstest.Eventually(t, 5*time.Second, func() error {
			if got, err := netnstest.AskTCP(from, "10.96.0.20:80"); err == nil {
				return fmt.Errorf("the deleted Service's ClusterIP still answers (%q)", got)
			}
			return nil
		})
	}
}
