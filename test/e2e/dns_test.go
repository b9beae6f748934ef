package e2e

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// dnsQuery asks the server's cluster DNS (on 127.0.0.1 at its port).
func dnsQuery(t *testing.T, network, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: network, Timeout: 3 * time.Second}
	r, _, err := c.Exchange(new(mdns.Msg).SetQuestion(name, qtype), net.JoinHostPort("127.0.0.1", strconv.Itoa(cluster.DNSPort)))
	if err != nil {
		t.Fatalf("DNS %s %s over %s: %v", name, mdns.TypeToString[qtype], network, err)
	}
	return r
}

func answers(r *mdns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *mdns.A:
			out = append(out, v.A.String())
		case *mdns.SRV:
			out = append(out, fmt.Sprintf("%d %s", v.Port, v.Target))
		case *mdns.PTR:
			out = append(out, v.Ptr)
		case *mdns.CNAME:
			out = append(out, v.Target)
		}
	}
	sort.Strings(out)
	return out
}

// The server publishes its DNS as kube-dns at the tenth address of the
// service CIDR, as kubeadm and k3s do.
func TestDNSKubeDNSService(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	out := s.Run("get", "service", "kube-dns", "-n", "kube-system", "-o",
		`jsonpath={.spec.clusterIP} {.metadata.labels.k8s-app} {range .spec.ports[*]}{.name}/{.protocol}/{.port} {end}`)
	framework.Contains(t, out, "10.96.0.10 kube-dns dns/UDP/53 dns-tcp/TCP/53")
	framework.Eventually(t, 20*time.Second, func() error {
		r := s.Do("get", "endpointslice", "kube-dns", "-n", "kube-system", "-o", "jsonpath={.ports[*].port}")
		if r.Code != 0 || !strings.Contains(r.Stdout, strconv.Itoa(cluster.DNSPort)) {
			return errf("kube-dns EndpointSlice ports %q (%s), want the DNS port %d", r.Stdout, r.Stderr, cluster.DNSPort)
		}
		return nil
	})
	if r := dnsQuery(t, "udp", "kube-dns.kube-system.svc.cluster.local.", mdns.TypeA); len(r.Answer) != 1 || answers(r)[0] != "10.96.0.10" {
		t.Errorf("kube-dns resolves to %v", answers(r))
	}
}

// A user creates a Service with kubectl and resolves it over UDP and TCP; a
// name that does not exist is NXDOMAIN; deleting the Service removes it.
func TestDNSServiceNames(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Contains(t, s.Run("create", "service", "clusterip", "web", "--tcp=80:8080"), "service/web created")
	ip := s.Run("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")
	name := "web." + s.Namespace + ".svc.cluster.local."
	for _, network := range []string{"udp", "tcp"} {
		framework.Eventually(t, 10*time.Second, func() error {
			r := dnsQuery(t, network, name, mdns.TypeA)
			if r.Rcode != mdns.RcodeSuccess || strings.Join(answers(r), ",") != ip {
				return errf("%s over %s: %s %v, want %s", name, network, mdns.RcodeToString[r.Rcode], answers(r), ip)
			}
			return nil
		})
	}
	if r := dnsQuery(t, "udp", "_80-8080._tcp."+name, mdns.TypeSRV); strings.Join(answers(r), ",") != "80 "+name {
		t.Errorf("SRV of the named port: %s %v", mdns.RcodeToString[r.Rcode], answers(r))
	}
	rev, _ := mdns.ReverseAddr(ip)
	if r := dnsQuery(t, "tcp", rev, mdns.TypePTR); strings.Join(answers(r), ",") != name {
		t.Errorf("PTR of %s: %s %v", ip, mdns.RcodeToString[r.Rcode], answers(r))
	}
	for _, network := range []string{"udp", "tcp"} {
		r := dnsQuery(t, network, "missing."+s.Namespace+".svc.cluster.local.", mdns.TypeA)
		if r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 {
			t.Errorf("a missing Service over %s: %s with authority %v, want NXDOMAIN with the SOA", network, mdns.RcodeToString[r.Rcode], r.Ns)
		}
	}
	s.Run("delete", "service", "web")
	framework.Eventually(t, 10*time.Second, func() error {
		if r := dnsQuery(t, "udp", name, mdns.TypeA); r.Rcode != mdns.RcodeNameError {
			return errf("deleted Service still answers: %s %v", mdns.RcodeToString[r.Rcode], answers(r))
		}
		return nil
	})
}

// A selector-less headless Service with hand-written Endpoints (an outside
// database): the mirroring controller makes its EndpointSlice, and DNS
// answers the addresses and each endpoint's hostname.
func TestDNSEndpointsOfASelectorlessHeadlessService(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Apply(`
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  ports:
  - name: pg
    port: 5432
---
apiVersion: v1
kind: Endpoints
metadata:
  name: db
subsets:
- addresses:
  - ip: 192.0.2.10
    hostname: db-0
  - ip: 192.0.2.11
    hostname: db-1
  ports:
  - name: pg
    port: 5432
`)
	framework.Eventually(t, 20*time.Second, func() error {
		list := getJSON[discoveryv1.EndpointSliceList](t, s, "endpointslices", "-l", "kubernetes.io/service-name=db")
		if len(list.Items) != 1 || len(list.Items[0].Endpoints) != 2 ||
			list.Items[0].Labels[discoveryv1.LabelManagedBy] != "endpointslicemirroring-controller.k8s.io" {
			return errf("mirrored slices: %+v", list.Items)
		}
		return nil
	})
	name := "db." + s.Namespace + ".svc.cluster.local."
	framework.Eventually(t, 10*time.Second, func() error {
		if got := strings.Join(answers(dnsQuery(t, "udp", name, mdns.TypeA)), ","); got != "192.0.2.10,192.0.2.11" {
			return errf("headless A: %q", got)
		}
		return nil
	})
	if got := strings.Join(answers(dnsQuery(t, "tcp", "db-1."+name, mdns.TypeA)), ","); got != "192.0.2.11" {
		t.Errorf("endpoint hostname record: %q", got)
	}
	if got := strings.Join(answers(dnsQuery(t, "udp", "_pg._tcp."+name, mdns.TypeSRV)), ","); got != "5432 db-0."+name+",5432 db-1."+name {
		t.Errorf("SRV: %q", got)
	}
}
