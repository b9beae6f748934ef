package dns

import (
	"context"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

// fakeClock is a settable clock for cache expiry.
type fakeClock struct{ offset atomic.Int64 }

func (c *fakeClock) now() time.Time {
	return time.Unix(1_700_000_000, 0).Add(time.Duration(c.offset.Load()))
}
func (c *fakeClock) step(d time.Duration) { c.offset.Add(int64(d)) }

// upstream is a fake resolver on loopback: it answers example.com A with
// 93.184.216.34 (TTL 300), gone.example.com with NXDOMAIN (SOA minimum 60),
// and counts the queries it gets.
type upstream struct {
	addr    netip.AddrPort
	queries atomic.Int32
	servers []*mdns.Server
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		u.queries.Add(1)
		m := new(mdns.Msg).SetReply(r)
		m.RecursionAvailable = true
		q := r.Question[0]
		switch strings.ToLower(q.Name) {
		case "example.com.", "db.example.com.":
			if q.Qtype == mdns.TypeA {
				rr, _ := mdns.NewRR(q.Name + " 300 IN A 93.184.216.34")
				m.Answer = append(m.Answer, rr)
			}
		default:
			m.Rcode = mdns.RcodeNameError
			soa, _ := mdns.NewRR("example.com. 60 IN SOA ns.example.com. admin.example.com. 1 7200 1800 86400 60")
			m.Ns = append(m.Ns, soa)
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String())
	if err != nil {
		pc.Close()
		t.Skipf("no TCP port beside UDP %d: %v", port, err)
	}
	u.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	u.servers = []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	for _, s := range u.servers {
		go func() { _ = s.ActivateAndServe() }()
	}
	t.Cleanup(func() {
		for _, s := range u.servers {
			_ = s.Shutdown()
		}
	})
	return u
}

type fixture struct {
	addr   string
	client *fake.Clientset
	clock  *fakeClock
	up     *upstream
}

func startServer(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{clock: &fakeClock{}, up: startUpstream(t)}
	objs = append(objs, ns("default"), ns("kube-system"), ns("apps"))
	f.client = fake.NewClientset(objs...)
	cfg := ServerConfig{
		Handler: Config{Domain: "cluster.local", TTL: 5, ClusterDNS: []netip.Addr{netip.MustParseAddr("10.96.0.10")},
			Upstreams: []netip.AddrPort{f.up.addr}, ForwardTimeout: time.Second, Cache: DefaultCache, Now: f.clock.now},
		Client: f.client, Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, MetricsPort: -1,
	}
	bound := make(chan netip.AddrPort, 1)
	cfg.Bound = func(_ context.Context, a netip.AddrPort, _ int) { bound <- a }
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	select {
	case a := <-bound:
		f.addr = a.String()
	case err := <-done:
		t.Fatalf("server ended before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not listen")
	}
	return f
}

func (f *fixture) query(t *testing.T, network, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg).SetQuestion(name, qtype)
	c := &mdns.Client{Net: network, Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, f.addr)
	if err != nil {
		t.Fatalf("query %s %s over %s: %v", name, mdns.TypeToString[qtype], network, err)
	}
	return r
}

func ns(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func clusterIPService(name, namespace string, ips []string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ips[0], ClusterIPs: ips, Ports: ports}}
}

func slice(svc, namespace, name string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: discoveryv1.AddressTypeIPv4, Ports: ports, Endpoints: eps}
}

func ep(ip, hostname string, ready bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
	if hostname != "" {
		e.Hostname = ptr.To(hostname)
	}
	return e
}

func epPort(name string, proto corev1.Protocol, port int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr.To(name), Protocol: ptr.To(proto), Port: ptr.To(port)}
}

// clusterObjects is a small cluster: a ClusterIP Service with endpoints, a
// headless one with StatefulSet-style hostnames, an ExternalName, a dual-stack one.
func clusterObjects() []runtime.Object {
	return []runtime.Object{
		clusterIPService("web", "default", []string{"10.96.1.1"},
			corev1.ServicePort{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80},
			corev1.ServicePort{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}),
		slice("web", "default", "web-abc", []discoveryv1.EndpointPort{epPort("http", corev1.ProtocolTCP, 8080)},
			ep("10.244.0.5", "", true)),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "apps"},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "pg", Protocol: corev1.ProtocolTCP, Port: 5432}}}},
		slice("db", "apps", "db-1", []discoveryv1.EndpointPort{epPort("pg", corev1.ProtocolTCP, 5432)},
			ep("10.244.1.10", "db-0", true), ep("10.244.1.11", "db-1", true), ep("10.244.1.12", "db-2", false)),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "default"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}},
		clusterIPService("dual", "default", []string{"10.96.1.2", "fd00::2"}, corev1.ServicePort{Port: 443, Protocol: corev1.ProtocolTCP}),
	}
}

// rrs prints a section's records without TTLs, sorted, for comparison.
func rrs(list []mdns.RR) []string {
	out := make([]string, 0, len(list))
	for _, rr := range list {
		if rr.Header().Rrtype == mdns.TypeOPT {
			continue
		}
		s := strings.Fields(rr.String())
		out = append(out, s[0]+" "+strings.Join(s[3:], " "))
	}
	sort.Strings(out)
	return out
}

func TestClusterRecords(t *testing.T) {
	f := startServer(t, clusterObjects()...)
	cases := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string
		extra  []string
	}{
		{name: "a ClusterIP Service's name answers its ClusterIP", qname: "web.default.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"web.default.svc.cluster.local. A 10.96.1.1"}},
		{name: "names are matched without regard to case and answered in the asker's spelling", qname: "WEB.Default.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"WEB.Default.svc.cluster.local. A 10.96.1.1"}},
		{name: "an IPv4-only Service has no AAAA record but exists (NODATA)", qname: "web.default.svc.cluster.local.", qtype: mdns.TypeAAAA},
		{name: "a dual-stack Service answers AAAA with its IPv6 ClusterIP", qname: "dual.default.svc.cluster.local.", qtype: mdns.TypeAAAA,
			answer: []string{"dual.default.svc.cluster.local. AAAA fd00::2"}},
		{name: "a missing Service in an existing namespace is NXDOMAIN", qname: "nope.default.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError},
		{name: "a Service in a namespace that does not exist is NXDOMAIN", qname: "web.nowhere.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError},
		{name: "a name under the cluster domain that no scheme covers is NXDOMAIN", qname: "foo.bar.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError},
		{name: "a named port's SRV record names the Service with the Service port", qname: "_http._tcp.web.default.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"_http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local."},
			extra:  []string{"web.default.svc.cluster.local. A 10.96.1.1"}},
		{name: "a port name with the wrong protocol is NXDOMAIN", qname: "_http._udp.web.default.svc.cluster.local.", qtype: mdns.TypeSRV,
			rcode: mdns.RcodeNameError},
		{name: "a Service's SRV lists every port", qname: "web.default.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"web.default.svc.cluster.local. SRV 0 50 53 web.default.svc.cluster.local.",
				"web.default.svc.cluster.local. SRV 0 50 80 web.default.svc.cluster.local."},
			extra: []string{"web.default.svc.cluster.local. A 10.96.1.1"}},
		{name: "a headless Service answers its ready endpoints only", qname: "db.apps.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"db.apps.svc.cluster.local. A 10.244.1.10", "db.apps.svc.cluster.local. A 10.244.1.11"}},
		{name: "a headless endpoint's hostname has its own record", qname: "db-0.db.apps.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"db-0.db.apps.svc.cluster.local. A 10.244.1.10"}},
		{name: "a not-ready endpoint's hostname is NXDOMAIN", qname: "db-2.db.apps.svc.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError},
		{name: "a headless Service's named port SRV names every endpoint", qname: "_pg._tcp.db.apps.svc.cluster.local.", qtype: mdns.TypeSRV,
			answer: []string{"_pg._tcp.db.apps.svc.cluster.local. SRV 0 50 5432 db-0.db.apps.svc.cluster.local.",
				"_pg._tcp.db.apps.svc.cluster.local. SRV 0 50 5432 db-1.db.apps.svc.cluster.local."},
			extra: []string{"db-0.db.apps.svc.cluster.local. A 10.244.1.10", "db-1.db.apps.svc.cluster.local. A 10.244.1.11"}},
		{name: "an endpoint without a hostname is named by its dashed IP", qname: "10-244-0-5.web.default.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"10-244-0-5.web.default.svc.cluster.local. A 10.244.0.5"}},
		{name: "a ClusterIP's PTR names the Service", qname: "1.1.96.10.in-addr.arpa.", qtype: mdns.TypePTR,
			answer: []string{"1.1.96.10.in-addr.arpa. PTR web.default.svc.cluster.local."}},
		{name: "a headless endpoint's PTR names the endpoint", qname: "10.1.244.10.in-addr.arpa.", qtype: mdns.TypePTR,
			answer: []string{"10.1.244.10.in-addr.arpa. PTR db-0.db.apps.svc.cluster.local."}},
		{name: "an ExternalName Service is a CNAME to its target", qname: "ext.default.svc.cluster.local.", qtype: mdns.TypeCNAME,
			answer: []string{"ext.default.svc.cluster.local. CNAME db.example.com."}},
		{name: "an ExternalName Service's A query follows the CNAME upstream", qname: "ext.default.svc.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"db.example.com. A 93.184.216.34", "ext.default.svc.cluster.local. CNAME db.example.com."}},
		{name: "a dashed pod IP in an existing namespace answers that IP", qname: "10-244-0-9.default.pod.cluster.local.", qtype: mdns.TypeA,
			answer: []string{"10-244-0-9.default.pod.cluster.local. A 10.244.0.9"}},
		{name: "a pod name that is no IP is NXDOMAIN", qname: "not-an-ip.default.pod.cluster.local.", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError},
		{name: "the zone apex has an SOA", qname: "cluster.local.", qtype: mdns.TypeSOA,
			answer: []string{"cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5"}},
		{name: "the zone apex's NS is the kube-dns Service", qname: "cluster.local.", qtype: mdns.TypeNS,
			answer: []string{"cluster.local. NS kube-dns.kube-system.svc.cluster.local."},
			extra:  []string{"kube-dns.kube-system.svc.cluster.local. A 10.96.0.10"}},
		{name: "the DNS schema version is served as TXT", qname: "dns-version.cluster.local.", qtype: mdns.TypeTXT,
			answer: []string{`dns-version.cluster.local. TXT "1.1.0"`}},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range cases {
			t.Run(network+": "+tc.name, func(t *testing.T) {
				r := f.query(t, network, tc.qname, tc.qtype)
				if r.Rcode != tc.rcode {
					t.Fatalf("rcode %s, want %s\n%v", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tc.rcode], r)
				}
				if !r.Authoritative {
					t.Errorf("answer is not authoritative\n%v", r)
				}
				got := rrs(r.Answer)
				for i, s := range got {
					if strings.Contains(s, " SOA ") { // the serial moves with time
						f := strings.Fields(s)
						f[4] = "SERIAL"
						got[i] = strings.Join(f, " ")
					}
				}
				if strings.Join(got, "\n") != strings.Join(sortCopy(tc.answer), "\n") {
					t.Errorf("answer:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(sortCopy(tc.answer), "\n"))
				}
				if tc.extra != nil && strings.Join(rrs(r.Extra), "\n") != strings.Join(sortCopy(tc.extra), "\n") {
					t.Errorf("additional:\n%s\nwant:\n%s", strings.Join(rrs(r.Extra), "\n"), strings.Join(sortCopy(tc.extra), "\n"))
				}
				if len(tc.answer) == 0 {
					if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != mdns.TypeSOA {
						t.Errorf("a negative answer carries the zone's SOA, got %v", r.Ns)
					}
				}
				for _, rr := range r.Answer {
					if h := rr.Header(); h.Rrtype != mdns.TypeTXT && strings.HasSuffix(h.Name, ".cluster.local.") && h.Ttl != 5 {
						t.Errorf("TTL %d, want the kubernetes plugin's 5: %v", h.Ttl, rr)
					}
				}
			})
		}
	}
}

func sortCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestRecordsFollowTheInformers(t *testing.T) {
	f := startServer(t)
	ctx := context.Background()
	if r := f.query(t, "udp", "late.default.svc.cluster.local.", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("before the Service exists: %s", mdns.RcodeToString[r.Rcode])
	}
	svc := clusterIPService("late", "default", []string{"10.96.3.3"})
	if _, err := f.client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		r := f.query(t, "udp", "late.default.svc.cluster.local.", mdns.TypeA)
		return r.Rcode == mdns.RcodeSuccess && len(r.Answer) == 1
	})
	if err := f.client.CoreV1().Services("default").Delete(ctx, "late", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return f.query(t, "udp", "late.default.svc.cluster.local.", mdns.TypeA).Rcode == mdns.RcodeNameError
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestForwardingAndCaching(t *testing.T) {
	f := startServer(t)
	r := f.query(t, "udp", "example.com.", mdns.TypeA)
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "93.184.216.34" {
		t.Fatalf("forwarded answer: %v", r)
	}
	if r.Authoritative {
		t.Error("a forwarded answer is not authoritative")
	}
	// kubeadm's "cache 30": a 300 s record is kept 30 s.
	if ttl := r.Answer[0].Header().Ttl; ttl != 30 {
		t.Errorf("first TTL %d, want 30 (capped by the cache)", ttl)
	}
	f.clock.step(10 * time.Second)
	r = f.query(t, "tcp", "EXAMPLE.com.", mdns.TypeA)
	if n := f.up.queries.Load(); n != 1 {
		t.Errorf("upstream asked %d times, want 1: the second answer comes from the cache", n)
	}
	if len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 20 {
		t.Errorf("cached answer should carry the remaining TTL 20: %v", r.Answer)
	}
	if r.Question[0].Name != "EXAMPLE.com." {
		t.Errorf("cached answer's question should carry the asker's spelling, got %s", r.Question[0].Name)
	}
	f.clock.step(21 * time.Second)
	f.query(t, "udp", "example.com.", mdns.TypeA)
	if n := f.up.queries.Load(); n != 2 {
		t.Errorf("upstream asked %d times, want 2 once the entry expired", n)
	}

	// Denials are cached for the SOA minimum (60), capped at 30.
	r = f.query(t, "udp", "gone.example.com.", mdns.TypeA)
	if r.Rcode != mdns.RcodeNameError {
		t.Fatalf("upstream NXDOMAIN should pass through: %v", r)
	}
	before := f.up.queries.Load()
	f.clock.step(29 * time.Second)
	if r = f.query(t, "udp", "gone.example.com.", mdns.TypeA); r.Rcode != mdns.RcodeNameError || f.up.queries.Load() != before {
		t.Errorf("NXDOMAIN should come from the cache within 30s (rcode %s, upstream queries %d→%d)",
			mdns.RcodeToString[r.Rcode], before, f.up.queries.Load())
	}
	f.clock.step(2 * time.Second)
	f.query(t, "udp", "gone.example.com.", mdns.TypeA)
	if f.up.queries.Load() != before+1 {
		t.Error("an expired denial should be asked again")
	}
}

func TestForwardingWithoutUpstreamIsServfail(t *testing.T) {
	h, err := NewHandler(Config{Domain: "cluster.local", TTL: 5, ForwardTimeout: time.Second, Cache: DefaultCache}, newZone(time.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := &recorder{}
	h.ServeDNS(w, new(mdns.Msg).SetQuestion("example.com.", mdns.TypeA))
	if w.msg == nil || w.msg.Rcode != mdns.RcodeServerFailure {
		t.Fatalf("want SERVFAIL, got %v", w.msg)
	}
}

// recorder is a ResponseWriter that keeps what was written.
type recorder struct {
	mu  sync.Mutex
	msg *mdns.Msg
}

func (r *recorder) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (r *recorder) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (r *recorder) WriteMsg(m *mdns.Msg) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msg = m
	return nil
}
func (r *recorder) Write(b []byte) (int, error) {
	m := new(mdns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	return len(b), r.WriteMsg(m)
}
func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}
func (r *recorder) Network() string     { return "udp" }

func TestBadQueries(t *testing.T) {
	f := startServer(t, clusterObjects()...)
	raw := func(t *testing.T, b []byte) *mdns.Msg {
		t.Helper()
		c, err := net.Dial("udp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		m := new(mdns.Msg)
		if err := m.Unpack(buf[:n]); err != nil {
			t.Fatalf("unreadable answer: %v", err)
		}
		return m
	}
	t.Run("a NOTIFY is not implemented", func(t *testing.T) {
		m := new(mdns.Msg).SetQuestion("web.default.svc.cluster.local.", mdns.TypeSOA)
		m.Opcode = mdns.OpcodeNotify
		r, err := mdns.Exchange(m, f.addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != mdns.RcodeNotImplemented {
			t.Errorf("rcode %s, want NOTIMP", mdns.RcodeToString[r.Rcode])
		}
	})
	t.Run("an UPDATE is not implemented", func(t *testing.T) {
		m := new(mdns.Msg).SetQuestion("cluster.local.", mdns.TypeSOA)
		m.Opcode = mdns.OpcodeUpdate
		r, err := mdns.Exchange(m, f.addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != mdns.RcodeNotImplemented {
			t.Errorf("rcode %s, want NOTIMP", mdns.RcodeToString[r.Rcode])
		}
	})
	t.Run("a question whose name runs past the packet is a format error", func(t *testing.T) {
		b := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 10, 'w', 'e', 'b'}
		if r := raw(t, b); r.Rcode != mdns.RcodeFormatError || r.Id != 0x1234 {
			t.Errorf("rcode %s id %x, want FORMERR for id 1234", mdns.RcodeToString[r.Rcode], r.Id)
		}
	})
	t.Run("a query with two questions is a format error", func(t *testing.T) {
		m := new(mdns.Msg).SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
		m.Question = append(m.Question, m.Question[0])
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if r := raw(t, b); r.Rcode != mdns.RcodeFormatError {
			t.Errorf("rcode %s, want FORMERR", mdns.RcodeToString[r.Rcode])
		}
	})
	t.Run("a truncated header gets no answer and the server keeps answering", func(t *testing.T) {
		c, err := net.Dial("udp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte{1, 2, 3})
		c.Close()
		if r := f.query(t, "udp", "web.default.svc.cluster.local.", mdns.TypeA); r.Rcode != mdns.RcodeSuccess {
			t.Errorf("after garbage: %s", mdns.RcodeToString[r.Rcode])
		}
	})
	t.Run("an unsupported type for an existing name is NODATA", func(t *testing.T) {
		r := f.query(t, "udp", "web.default.svc.cluster.local.", mdns.TypeMX)
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
			t.Errorf("want NOERROR without answers, got %v", r)
		}
	})
	t.Run("EDNS with a version other than 0 is BADVERS", func(t *testing.T) {
		m := new(mdns.Msg).SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().SetVersion(1)
		r, err := mdns.Exchange(m, f.addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != mdns.RcodeBadVers {
			t.Errorf("rcode %d, want BADVERS", r.Rcode)
		}
	})
}

func TestLargeAnswersTruncateOverUDP(t *testing.T) {
	var eps []discoveryv1.Endpoint
	for i := 0; i < 100; i++ {
		eps = append(eps, ep(netip.AddrFrom4([4]byte{10, 244, 2, byte(i)}).String(), "", true))
	}
	f := startServer(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone}},
		slice("big", "default", "big-1", nil, eps...))
	m := new(mdns.Msg).SetQuestion("big.default.svc.cluster.local.", mdns.TypeA)
	r, _, err := (&mdns.Client{Net: "udp", Timeout: 3 * time.Second}).Exchange(m, f.addr)
	if err != nil && r == nil {
		t.Fatal(err)
	}
	if !r.Truncated || len(r.Answer) == 0 || len(r.Answer) >= 100 {
		t.Errorf("over UDP: truncated %v with %d answers, want TC and a partial answer", r.Truncated, len(r.Answer))
	}
	if r := f.query(t, "tcp", "big.default.svc.cluster.local.", mdns.TypeA); r.Truncated || len(r.Answer) != 100 {
		t.Errorf("over TCP: truncated %v with %d answers, want all 100", r.Truncated, len(r.Answer))
	}
}
