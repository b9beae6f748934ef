package rules

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n%s", path, got)
	}
}

func testConfig() *Config {
	return &Config{Family: nft.IPv4, Table: "minik8s-proxy", MasqueradeBit: 14,
		LocalCIDR: netip.MustParsePrefix("10.244.0.0/24"), LocalhostNodePorts: true,
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}}
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func port(ns, name, portName string, proto corev1.Protocol, clusterIP string, p uint16) *ServicePort {
	return &ServicePort{Name: ServicePortName{Namespace: ns, Name: name, Port: portName, Protocol: proto},
		ClusterIP: ip(clusterIP), Port: p}
}

func ready(addr string, p uint16, local bool) Endpoint {
	return Endpoint{Addr: ip(addr), Port: p, Ready: true, Serving: true, Local: local}
}

type fixture struct {
	sp  *ServicePort
	eps []Endpoint
}

// fixtures cover each kind of Service the proxy handles.
func fixtures() map[string]fixture {
	web := port("default", "web", "http", corev1.ProtocolTCP, "10.96.0.20", 80)
	dns := port("kube-system", "kube-dns", "dns", corev1.ProtocolUDP, "10.96.0.10", 53)
	np := port("default", "shop", "", corev1.ProtocolTCP, "10.96.0.30", 8080)
	np.NodePort, np.ExternalIPs, np.LoadBalancerIPs = 30080, []netip.Addr{ip("192.0.2.10")}, []netip.Addr{ip("10.244.0.1")}
	empty := port("default", "nobody", "", corev1.ProtocolTCP, "10.96.0.40", 80)
	emptyNP := port("default", "nobody-np", "", corev1.ProtocolUDP, "10.96.0.41", 9000)
	emptyNP.NodePort = 30900
	itp := port("default", "node-local", "", corev1.ProtocolTCP, "10.96.0.50", 80)
	itp.InternalLocal = true
	etp := port("default", "keep-source", "", corev1.ProtocolTCP, "10.96.0.60", 80)
	etp.NodePort, etp.ExternalLocal, etp.HealthCheckNodePort = 30060, true, 32000
	sticky := port("default", "sticky", "", corev1.ProtocolTCP, "10.96.0.70", 80)
	sticky.AffinityTimeout = 3 * time.Hour
	sctp := port("default", "signalling", "", corev1.ProtocolSCTP, "10.96.0.80", 3868)
	terminating := port("default", "draining", "", corev1.ProtocolTCP, "10.96.0.90", 80)
	return map[string]fixture{
		"default/web:http": {web, []Endpoint{ready("10.244.0.5", 8080, true), ready("10.244.1.5", 8080, false), ready("10.244.2.5", 8080, false),
			{Addr: ip("10.244.3.5"), Port: 8080}}}, // not ready: left out
		"kube-system/kube-dns:dns": {dns, []Endpoint{ready("10.244.0.7", 53, true), ready("10.244.1.7", 53, false)}},
		"default/shop":             {np, []Endpoint{ready("10.244.1.8", 8080, false)}},
		"default/nobody":           {empty, nil},
		"default/nobody-np":        {emptyNP, nil},
		"default/node-local":       {itp, []Endpoint{ready("10.244.0.9", 80, true), ready("10.244.1.9", 80, false)}},
		"default/keep-source":      {etp, []Endpoint{ready("10.244.0.10", 80, true), ready("10.244.1.10", 80, false)}},
		"default/sticky":           {sticky, []Endpoint{ready("10.244.0.11", 80, true), ready("10.244.1.11", 80, false)}},
		"default/signalling":       {sctp, []Endpoint{ready("10.244.1.12", 3868, false)}},
		"default/draining": {terminating, []Endpoint{
			{Addr: ip("10.244.0.13"), Port: 80, Serving: true, Terminating: true, Local: true},
			{Addr: ip("10.244.1.13"), Port: 80, Serving: false, Terminating: true}}},
	}
}

func fullState(t *testing.T, cfg *Config) *State {
	t.Helper()
	s := NewState(cfg)
	for key, f := range fixtures() {
		s.Set(key, Service(cfg, f.sp, f.eps))
	}
	return s
}

func TestTheBaseTableMatchesTheGoldenFile(t *testing.T) {
	golden(t, "base.golden", NewState(testConfig()).FullTable().String())
}

func TestTheTableForEachKindOfServiceMatchesTheGoldenFile(t *testing.T) {
	golden(t, "services.golden", fullState(t, testConfig()).FullTable().String())
}

func TestAnIPv6TableWithoutLocalhostNodePortsMatchesTheGoldenFile(t *testing.T) {
	cfg := &Config{Family: nft.IPv6, Table: "minik8s-proxy", MasqueradeBit: 14, LocalhostNodePorts: true}
	s := NewState(cfg)
	sp := port("default", "web6", "", corev1.ProtocolTCP, "fd00:10:96::20", 80)
	sp.NodePort = 30081
	s.Set("default/web6", Service(cfg, sp, []Endpoint{ready("fd00:10:244::5", 8080, true)}))
	golden(t, "ipv6.golden", s.FullTable().String())
}

// Each change becomes a transaction that touches only what changed.
func TestChangesTouchOnlyWhatChanged(t *testing.T) {
	cfg := testConfig()
	fx := fixtures()
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		name   string
		change func(s *State)
		golden string
	}{
		{"an endpoint going away changes the dispatch of its Service", func(s *State) {
			f := fx["default/web:http"]
			s.Set("default/web:http", Service(cfg, f.sp, f.eps[:2]))
		}, "change-endpoint-removed.golden"},
		{"an endpoint replaced in place changes one element", func(s *State) {
			f := fx["default/shop"]
			s.Set("default/shop", Service(cfg, f.sp, []Endpoint{ready("10.244.2.8", 8080, false)}))
		}, "change-endpoint-replaced.golden"},
		{"a deleted Service takes its elements and chains with it", func(s *State) {
			s.Set("default/sticky", nil)
			s.Set("default/web:http", nil)
		}, "change-services-deleted.golden"},
		{"a new Service with endpoints is dispatched", func(s *State) {
			sp := port("default", "new", "", corev1.ProtocolTCP, "10.96.0.100", 80)
			s.Set("default/new", Service(cfg, sp, []Endpoint{ready("10.244.1.20", 80, false)}))
		}, "change-service-added.golden"},
		{"the last endpoint going turns dispatch into a reject", func(s *State) {
			f := fx["default/signalling"]
			s.Set("default/signalling", Service(cfg, f.sp, nil))
		}, "change-last-endpoint-gone.golden"},
		{"an unchanged Service produces no change", func(s *State) {
			f := fx["default/shop"]
			s.Set("default/shop", Service(cfg, f.sp, f.eps))
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fullState(t, cfg)
			s.FullTable()
			tc.change(s)
			tx := s.Changes(now)
			if tc.golden == "" {
				if !tx.Empty() {
					t.Fatalf("want no change, got:\n%s", tx.Script())
				}
				return
			}
			golden(t, tc.golden, tx.Script())
		})
	}
}

// The state after changes must equal a state built from scratch.
func TestIncrementalChangesEndInTheSameTableAsAFullBuild(t *testing.T) {
	cfg := testConfig()
	fx := fixtures()
	s := fullState(t, cfg)
	s.FullTable()
	web := fx["default/web:http"]
	s.Set("default/web:http", Service(cfg, web.sp, web.eps[:1]))
	s.Set("default/sticky", nil)
	s.Changes(time.Unix(1000, 0))

	fresh := NewState(cfg)
	for key, f := range fx {
		switch key {
		case "default/web:http":
			fresh.Set(key, Service(cfg, f.sp, f.eps[:1]))
		case "default/sticky":
		default:
			fresh.Set(key, Service(cfg, f.sp, f.eps))
		}
	}
	got, want := s.FullTable().String(), fresh.FullTable().String()
	if got != want {
		t.Errorf("incremental state differs from a fresh build:\n%s\n---\n%s", got, want)
	}
}

// Chains dropped by a change are emptied at once and deleted a second later.
func TestStaleChainsAreDeletedAfterTheDelay(t *testing.T) {
	cfg := testConfig()
	s := fullState(t, cfg)
	s.FullTable()
	s.Set("default/sticky", nil)
	start := time.Unix(1000, 0)
	tx := s.Changes(start)
	if strings.Contains(tx.Script(), "delete chain") {
		t.Fatalf("chains deleted at once:\n%s", tx.Script())
	}
	if tx := s.Changes(start.Add(StaleChainDelay / 2)); !tx.Empty() {
		t.Fatalf("deleted before the delay:\n%s", tx.Script())
	}
	tx = s.Changes(start.Add(StaleChainDelay))
	if n := strings.Count(tx.Script(), "delete chain"); n != 3 {
		t.Errorf("want the service chain and two endpoint chains deleted, got:\n%s", tx.Script())
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"a plain IPv4 table", Config{Family: nft.IPv4, Table: "minik8s-proxy", MasqueradeBit: 14}, true},
		{"a table name with a space", Config{Family: nft.IPv4, Table: "a b", MasqueradeBit: 14}, false},
		{"a mark bit past 31", Config{Family: nft.IPv4, Table: "t", MasqueradeBit: 32}, false},
		{"an IPv6 local CIDR on an IPv4 table", Config{Family: nft.IPv4, Table: "t", LocalCIDR: netip.MustParsePrefix("fd00::/64")}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
