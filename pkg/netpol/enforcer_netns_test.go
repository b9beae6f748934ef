package netpol

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/minik8s/minik8s/pkg/proxy/netnstest"
	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// bridgeLab is a node (a network namespace) whose pods (namespaces of their
// own) share a bridge with br_netfilter on, as CNI's bridge plugin makes it,
// and a client routed from outside:
//
//	client 10.0.1.2 ── 10.0.1.1 node br0 10.244.0.1 ─┬─ 10.244.0.10 pod a
//	                                                   ├─ 10.244.0.11 pod b
//	                                                   └─ …
type bridgeLab struct {
	t      *testing.T
	node   *netnstest.NS
	client *netnstest.NS
	api    *fake.Clientset
	pods   map[string]*netnstest.NS
	e      *Enforcer
}

func newBridgeLab(t *testing.T) *bridgeLab {
	netnstest.Require(t)
	l := &bridgeLab{t: t, node: netnstest.New(t, "npnode"), client: netnstest.New(t, "npclient"), pods: map[string]*netnstest.NS{},
		api: fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})}
	l.node.Run("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1")
	l.node.Run("ip", "link", "add", "br0", "type", "bridge")
	l.node.Run("ip", "addr", "add", "10.244.0.1/24", "dev", "br0")
	l.node.Run("ip", "link", "set", "br0", "up")
	netnstest.Link(t, l.node, "10.0.1.1/24", l.client, "10.0.1.2/24")
	l.client.Run("ip", "route", "add", "default", "via", "10.0.1.1")
	return l
}

// addPod plugs a pod into the bridge; with inAPI, the API knows its address.
func (l *bridgeLab) addPod(name, ip string, labels map[string]string, inAPI bool) (*netnstest.NS, *corev1.Pod) {
	l.t.Helper()
	ns := netnstest.New(l.t, "np"+name)
	host := fmt.Sprintf("np%d%s", os.Getpid()%10000, name)
	if out, err := exec.Command("ip", "link", "add", host, "netns", l.node.Name, "type", "veth", "peer", "name", "eth0", "netns", ns.Name).CombinedOutput(); err != nil {
		l.t.Fatalf("create veth pair: %v: %s", err, out)
	}
	l.node.Run("ip", "link", "set", host, "master", "br0", "up")
	ns.Run("ip", "addr", "add", ip+"/24", "dev", "eth0")
	ns.Run("ip", "link", "set", "eth0", "up")
	ns.Run("ip", "route", "add", "default", "via", "10.244.0.1")
	l.pods[name] = ns
	pod := testPod("default", name, "node-a", ip, labels)
	pod.UID = types.UID("uid-" + name)
	if !inAPI {
		pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	}
	if _, err := l.api.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		l.t.Fatal(err)
	}
	view := pod.DeepCopy()
	view.Status = corev1.PodStatus{Phase: corev1.PodPending, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	return ns, view
}

func (l *bridgeLab) start() {
	l.t.Helper()
	fd := l.node.Fd()
	e, err := New(Config{Client: l.api, NodeName: "node-a", Backend: &nft.Netlink{NetNS: fd},
		Check: func() error { return nft.Available(fd) }, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		l.t.Fatal(err)
	}
	l.e = e
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	l.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			l.t.Errorf("enforcer: %v", err)
		}
		if err := Cleanup(fd, ""); err != nil {
			l.t.Errorf("cleanup: %v", err)
		}
		if out := l.node.Run("nft", "list", "tables"); strings.Contains(out, DefaultTable) {
			l.t.Errorf("tables left after cleanup:\n%s", out)
		}
	})
	netnstest.Eventually(l.t, 10*time.Second, func() error {
		if !e.Installed() {
			return errors.New("the enforcer has not installed its rules")
		}
		return nil
	})
}

func (l *bridgeLab) apply(np *networkingv1.NetworkPolicy) {
	l.t.Helper()
	ctx := context.Background()
	np.ResourceVersion = fmt.Sprint(time.Now().UnixNano())
	_, err := l.api.NetworkingV1().NetworkPolicies(np.Namespace).Update(ctx, np, metav1.UpdateOptions{})
	if err != nil {
		_, err = l.api.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{})
	}
	if err != nil {
		l.t.Fatal(err)
	}
}

func reaches(from *netnstest.NS, addr string) error {
	_, err := netnstest.AskTCP(from, addr)
	return err
}

func blocked(from *netnstest.NS, addr string) error {
	if _, err := netnstest.AskTCP(from, addr); err == nil {
		return fmt.Errorf("%s still reaches %s", from.Name, addr)
	}
	return nil
}

// serveEcho answers each line of each connection with the line.
func serveEcho(t *testing.T, ns *netnstest.NS, addr string) {
	var ln net.Listener
	ns.Do(func() {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
}

func echo(c net.Conn, r *bufio.Reader, msg string) error {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintln(c, msg); err != nil {
		return err
	}
	got, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(got) != msg {
		return fmt.Errorf("echo of %q came back as %q", msg, got)
	}
	return nil
}

func TestEnforcerIsolatesBridgedPodsAndKeepsEstablishedConnections(t *testing.T) {
	l := newBridgeLab(t)
	a, _ := l.addPod("a", "10.244.0.10", map[string]string{"app": "client"}, true)
	b, _ := l.addPod("b", "10.244.0.11", map[string]string{"app": "server"}, true)
	c, _ := l.addPod("c", "10.244.0.12", map[string]string{"app": "other"}, true)
	netnstest.ServeTCP(t, b, ":8080", "b")
	serveEcho(t, b, ":7000")
	l.start()

	// Open before any policy: everyone reaches b.
	for _, from := range []*netnstest.NS{a, c, l.client} {
		if err := reaches(from, "10.244.0.11:8080"); err != nil {
			t.Fatalf("without policies %s cannot reach b: %v", from.Name, err)
		}
	}
	var conn net.Conn
	var err error
	a.Do(func() { conn, err = net.DialTimeout("tcp", "10.244.0.11:7000", 2*time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if err := echo(conn, r, "before"); err != nil {
		t.Fatal(err)
	}

	// Deny all ingress to b: new connections fail, the open one goes on.
	policy := netpol("default", "server", sel("app", "server"), ingressOnly, nil, nil)
	l.apply(policy)
	netnstest.Eventually(t, 15*time.Second, func() error { return blocked(a, "10.244.0.11:8080") })
	if err := blocked(c, "10.244.0.11:8080"); err != nil {
		t.Error(err)
	}
	if err := blocked(l.client, "10.244.0.11:8080"); err != nil {
		t.Error(err)
	}
	if err := echo(conn, r, "after deny"); err != nil {
		t.Errorf("the established connection broke when the policy came: %v", err)
	}
	if err := reaches(b, "10.244.0.10:1"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("b's egress is not open (want connection refused by a): %v", err)
	}

	// Allow app=client on 8080 only.
	policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{podsPeer(sel("app", "client"))},
		Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(8080))}}}
	l.apply(policy)
	netnstest.Eventually(t, 15*time.Second, func() error { return reaches(a, "10.244.0.11:8080") })
	if err := blocked(a, "10.244.0.11:7000"); err != nil {
		t.Error(err)
	}
	if err := blocked(c, "10.244.0.11:8080"); err != nil {
		t.Error(err)
	}
	if err := echo(conn, r, "after update"); err != nil {
		t.Errorf("the established connection broke when the policy changed: %v", err)
	}

	// A Service's DNAT (prerouting, as the proxy's) happens before the
	// judgement: through a ClusterIP the same pods get in and stay out.
	if err := (&nft.Command{Wrap: l.node.Wrap()}).Run("add table ip svc\n" +
		"add chain ip svc pre { type nat hook prerouting priority dstnat; }\n" +
		"add rule ip svc pre ip daddr 10.96.0.10 tcp dport 80 dnat to 10.244.0.11:8080\n"); err != nil {
		t.Fatal(err)
	}
	if err := reaches(a, "10.96.0.10:80"); err != nil {
		t.Errorf("an admitted pod cannot reach b through its ClusterIP: %v", err)
	}
	if err := blocked(c, "10.96.0.10:80"); err != nil {
		t.Errorf("through a ClusterIP: %v", err)
	}

	// Pods the kubelet announces before their status reaches the API are
	// judged from their first packet: a new client is let in, a new other
	// pod is not.
	d, dView := l.addPod("d", "10.244.0.13", map[string]string{"app": "client"}, false)
	x, xView := l.addPod("x", "10.244.0.14", map[string]string{"app": "other"}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, v := range []*corev1.Pod{dView, xView} {
		if err := l.e.PodStarting(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := reaches(d, "10.244.0.11:8080"); err != nil {
		t.Errorf("a new client pod is refused on its first connection: %v", err)
	}
	if err := blocked(x, "10.244.0.11:8080"); err != nil {
		t.Errorf("a new pod the policy does not admit got in on its first connection: %v", err)
	}

	// Default-deny egress for app=other: x cannot reach even unisolated a.
	l.apply(netpol("default", "other-out", sel("app", "other"), egressOnly, nil, nil))
	netnstest.Eventually(t, 15*time.Second, func() error { return blocked(x, "10.244.0.10:1") })
	if err := reaches(a, "10.244.0.11:8080"); err != nil {
		t.Errorf("an unrelated egress policy cut a's access: %v", err)
	}

	// Deleting the policies opens everything again.
	for _, name := range []string{"server", "other-out"} {
		if err := l.api.NetworkingV1().NetworkPolicies("default").Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	netnstest.Eventually(t, 15*time.Second, func() error { return reaches(c, "10.244.0.11:8080") })
	if err := reaches(l.client, "10.244.0.11:8080"); err != nil {
		t.Errorf("after the policies went the client cannot reach b: %v", err)
	}
}
