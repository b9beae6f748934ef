package runtime

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPodDNS(t *testing.T) {
	host := HostDNS{Servers: []string{"192.0.2.53"}, Searches: []string{"corp.example"}, Options: []string{"edns0", "ndots:2"}}
	cluster := []string{"10.96.0.10"}
	pod := func(policy corev1.DNSPolicy, hostNet bool, dc *corev1.PodDNSConfig) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop", UID: "u1"},
			Spec: corev1.PodSpec{DNSPolicy: policy, HostNetwork: hostNet, DNSConfig: dc}}
	}
	many := func(n int, f string) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf(f, i))
		}
		return out
	}
	tests := []struct {
		name                       string
		pod                        *corev1.Pod
		clusterDNS                 []string
		host                       HostDNS
		servers, searches, options []string
		warning                    string
	}{
		{name: "ClusterFirst asks the cluster DNS with the cluster search domains before the host's, and ndots:5",
			pod: pod(corev1.DNSClusterFirst, false, nil), clusterDNS: cluster, host: host,
			servers: cluster, searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}, options: []string{"ndots:5"}},
		{name: "an empty policy is ClusterFirst",
			pod: pod("", false, nil), clusterDNS: cluster, host: host,
			servers: cluster, searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}, options: []string{"ndots:5"}},
		{name: "ClusterFirst on the host network uses the host's configuration",
			pod: pod(corev1.DNSClusterFirst, true, nil), clusterDNS: cluster, host: host,
			servers: host.Servers, searches: host.Searches, options: host.Options},
		{name: "ClusterFirstWithHostNet on the host network asks the cluster DNS",
			pod: pod(corev1.DNSClusterFirstWithHostNet, true, nil), clusterDNS: cluster, host: host,
			servers: cluster, searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}, options: []string{"ndots:5"}},
		{name: "Default is the node's resolv.conf",
			pod: pod(corev1.DNSDefault, false, nil), clusterDNS: cluster, host: host,
			servers: host.Servers, searches: host.Searches, options: host.Options},
		{name: "Default without a resolv.conf gets loopback and a dot search, as upstream",
			pod: pod(corev1.DNSDefault, false, nil), clusterDNS: cluster, host: HostDNS{Unset: true},
			servers: []string{"127.0.0.1"}, searches: []string{"."}},
		{name: "ClusterFirst without a cluster DNS falls back to Default with a warning",
			pod: pod(corev1.DNSClusterFirst, false, nil), host: host,
			servers: host.Servers, searches: host.Searches, options: host.Options, warning: "MissingClusterDNS"},
		{name: "None takes only dnsConfig",
			pod: pod(corev1.DNSNone, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.example"},
				Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("1")}, {Name: "edns0"}}}),
			clusterDNS: cluster, host: host,
			servers: []string{"1.1.1.1"}, searches: []string{"a.example"}, options: []string{"edns0", "ndots:1"}},
		{name: "dnsConfig adds to ClusterFirst, its options replacing those of the same name and duplicates dropped",
			pod: pod(corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10", "1.1.1.1"},
				Searches: []string{"svc.cluster.local", "b.example"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}, {Name: "single-request-reopen"}}}),
			clusterDNS: cluster, host: host,
			servers:  []string{"10.96.0.10", "1.1.1.1"},
			searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "b.example"},
			options:  []string{"ndots:2", "single-request-reopen"}},
		{name: "more than three name servers are cut to three with a warning",
			pod:        pod(corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9"}}),
			clusterDNS: cluster, host: HostDNS{},
			servers: []string{"10.96.0.10", "1.1.1.1", "8.8.8.8"}, searches: []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"},
			options: []string{"ndots:5"}, warning: "Nameserver limits were exceeded"},
		{name: "more than 32 search domains are cut to 32 with a warning",
			pod:        pod(corev1.DNSNone, false, &corev1.PodDNSConfig{Searches: many(40, "d%d.example")}),
			clusterDNS: cluster, searches: many(32, "d%d.example"), warning: "Search Line limits were exceeded"},
		{name: "a search line over 2048 characters loses domains from its end",
			pod:        pod(corev1.DNSNone, false, &corev1.PodDNSConfig{Searches: many(10, strings.Repeat("x", 240)+"%d.example")}),
			clusterDNS: cluster, searches: many(8, strings.Repeat("x", 240)+"%d.example"), warning: "Search Line limits were exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warnings := PodDNS(tt.pod, tt.clusterDNS, "cluster.local", tt.host)
			if !equalList(cfg.Servers, tt.servers) || !equalList(cfg.Searches, tt.searches) || !equalList(cfg.Options, tt.options) {
				t.Errorf("got servers %v searches %v options %v\nwant servers %v searches %v options %v",
					cfg.Servers, cfg.Searches, cfg.Options, tt.servers, tt.searches, tt.options)
			}
			var got []string
			for _, w := range warnings {
				got = append(got, w.Reason+": "+w.Message)
			}
			if (tt.warning == "") != (len(got) == 0) || (tt.warning != "" && !strings.Contains(strings.Join(got, "\n"), tt.warning)) {
				t.Errorf("warnings %q, want one containing %q", got, tt.warning)
			}
		})
	}
}

func equalList(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func TestPodDNSDoesNotChangeTheHostConfiguration(t *testing.T) {
	host := HostDNS{Servers: []string{"192.0.2.53"}, Searches: []string{"corp.example"}}
	p := &corev1.Pod{Spec: corev1.PodSpec{DNSPolicy: corev1.DNSDefault, DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"x"}}}}
	PodDNS(p, nil, "cluster.local", host)
	if len(host.Servers) != 1 || len(host.Searches) != 1 {
		t.Errorf("the host's lists were changed: %v", host)
	}
}
