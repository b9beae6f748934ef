package proxy

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// recorder is a backend and conntrack that remember what they were asked.
type recorder struct {
	mu    sync.Mutex
	txs   []*nft.Tx
	flows []udpFlow
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Apply(tx *nft.Tx) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !tx.Empty() {
		r.txs = append(r.txs, tx)
	}
	return nil
}
func (r *recorder) ClearUDP(f []udpFlow) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flows = append(r.flows, f...)
	return nil
}

func (r *recorder) scripts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, tx := range r.txs {
		out = append(out, tx.Script())
	}
	return out
}

func testNode() *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24", PodCIDRs: []string{"10.244.0.0/24"}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.244.0.1"}}}}
}

func startProxier(t *testing.T, cfg Config, objs ...any) (*fake.Clientset, context.CancelFunc, chan error) {
	t.Helper()
	var ros []any
	ros = append(ros, objs...)
	client := fake.NewClientset()
	for _, o := range ros {
		var err error
		switch o := o.(type) {
		case *corev1.Node:
			_, err = client.CoreV1().Nodes().Create(context.Background(), o, metav1.CreateOptions{})
		case *corev1.Service:
			_, err = client.CoreV1().Services(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
		case *discoveryv1.EndpointSlice:
			_, err = client.DiscoveryV1().EndpointSlices(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg.Client, cfg.NodeName = client, "node-a"
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return client, cancel, done
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fakeConfig(r *recorder) Config {
	return Config{Backend: r, Conntrack: r, Check: func() error { return nil },
		Sysctl: func(string, string) error { return nil }}
}

func TestTheFirstSyncReplacesTheTableAndLaterOnesOnlyChangeWhatChanged(t *testing.T) {
	r := &recorder{}
	web := service("web")
	client, _, _ := startProxier(t, fakeConfig(r), testNode(), web,
		slice("web", "web-1", discoveryv1.AddressTypeIPv4, "http", 8080, corev1.ProtocolTCP, ep{"10.244.0.5", "node-a", true, false}))
	eventually(t, "the first transaction", func() bool { return len(r.scripts()) >= 1 })
	first := r.scripts()[0]
	if !strings.Contains(first, "delete table ip minik8s-proxy") || !strings.Contains(first, "10.244.0.5") {
		t.Fatalf("first transaction does not replace the table with web's rules:\n%s", first)
	}
	// A second endpoint: one small transaction, no table replacement.
	s := slice("web", "web-1", discoveryv1.AddressTypeIPv4, "http", 8080, corev1.ProtocolTCP,
		ep{"10.244.0.5", "node-a", true, false}, ep{"10.244.1.7", "node-b", true, false})
	s.ResourceVersion = "2"
	if _, err := client.DiscoveryV1().EndpointSlices("default").Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the endpoint change", func() bool {
		ss := r.scripts()
		return len(ss) >= 2 && strings.Contains(ss[len(ss)-1], "10.244.1.7")
	})
	last := r.scripts()[len(r.scripts())-1]
	if strings.Contains(last, "delete table") || strings.Count(last, "\n") > 20 {
		t.Errorf("an endpoint change should be a small transaction:\n%s", last)
	}
	// The Service goes: its elements go.
	if err := client.CoreV1().Services("default").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Service's removal", func() bool {
		ss := r.scripts()
		return strings.Contains(ss[len(ss)-1], "delete element ip minik8s-proxy cluster-ips")
	})
}

func TestAUDPEndpointThatGoesHasItsConntrackEntriesCleared(t *testing.T) {
	r := &recorder{}
	dns := service("dns", func(s *corev1.Service) {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
		s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}
	})
	client, _, _ := startProxier(t, fakeConfig(r), testNode(), dns,
		slice("dns", "dns-1", discoveryv1.AddressTypeIPv4, "dns", 5353, corev1.ProtocolUDP,
			ep{"10.244.0.5", "node-a", true, false}, ep{"10.244.0.6", "node-a", true, false}))
	eventually(t, "the first transaction", func() bool { return len(r.scripts()) >= 1 })
	s := slice("dns", "dns-1", discoveryv1.AddressTypeIPv4, "dns", 5353, corev1.ProtocolUDP, ep{"10.244.0.6", "node-a", true, false})
	s.ResourceVersion = "2"
	if _, err := client.DiscoveryV1().EndpointSlices("default").Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the conntrack flush", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, f := range r.flows {
			if f.ReplySrc.String() == "10.244.0.5" && f.OrigDst.String() == "10.96.0.10" && f.OrigDstPort == 53 {
				return true
			}
		}
		return false
	})
}

func TestAServiceOfAnotherProxyIsLeftAlone(t *testing.T) {
	r := &recorder{}
	other := service("other", func(s *corev1.Service) {
		s.Labels = map[string]string{labelServiceProxyName: "someone-else"}
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.99", []string{"10.96.0.99"}
	})
	startProxier(t, fakeConfig(r), testNode(), other, service("web"))
	eventually(t, "the first transaction", func() bool { return len(r.scripts()) >= 1 })
	if s := r.scripts()[0]; strings.Contains(s, "10.96.0.99") || !strings.Contains(s, "10.96.0.20") {
		t.Errorf("rules:\n%s", s)
	}
}

func TestWithoutNftablesTheProxyRefusesToStart(t *testing.T) {
	r := &recorder{}
	cfg := fakeConfig(r)
	cfg.Check = func() error { return net.ErrClosed }
	_, _, done := startProxier(t, cfg, testNode())
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "service proxy needs nftables") {
			t.Fatalf("err = %v", err)
		}
		done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("the proxy started without nftables")
	}
}

func TestTheHealthCheckNodePortCountsLocalReadyEndpoints(t *testing.T) {
	r := &recorder{}
	cfg := fakeConfig(r)
	lb := service("lb", func(s *corev1.Service) {
		s.Spec.Type, s.Spec.ExternalTrafficPolicy = corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.Ports[0].NodePort = 30080
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	lb.Spec.HealthCheckNodePort = int32(port)
	cfg.Listen = func(network, addr string) (net.Listener, error) { return net.Listen(network, "127.0.0.1"+addr) }
	startProxier(t, cfg, testNode(), lb, slice("lb", "lb-1", discoveryv1.AddressTypeIPv4, "http", 8080, corev1.ProtocolTCP,
		ep{"10.244.0.5", "node-a", true, false}, ep{"10.244.1.5", "node-b", true, false}))
	var body string
	eventually(t, "the health check server", func() bool {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(body, `"localEndpoints":1`) {
		t.Errorf("body %q", body)
	}
}
