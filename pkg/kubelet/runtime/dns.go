package runtime

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The resolver limits upstream's kubelet applies (validation.MaxDNSNameservers,
// MaxDNSSearchPaths, MaxDNSSearchListChars), and the longest search domain
// glibc copes with.
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
	maxSearchDomainLen    = 253
)

// DNSWarning is an event the kubelet records about a pod's DNS configuration.
type DNSWarning struct {
	Reason, Message string
}

// HostDNS is the node's resolver configuration (its resolv.conf). Unset
// means the kubelet was given no resolv.conf (--resolv-conf ""): pods of
// the Default policy then get loopback and a "." search, as upstream.
type HostDNS struct {
	Servers, Searches, Options []string
	Unset                      bool
}

// PodDNS builds a pod's resolver configuration from its dnsPolicy and
// dnsConfig, as upstream's kubelet does: ClusterFirst pods (and
// ClusterFirstWithHostNet ones) ask the cluster DNS with the cluster search
// domains before the host's and ndots:5; Default pods (and ClusterFirst pods
// on the host network, or when no cluster DNS is known) get the host's
// configuration; None starts empty. dnsConfig is then merged in, and the
// result cut to the resolver's limits, each cut reported as a warning.
func PodDNS(pod *corev1.Pod, clusterDNS []string, clusterDomain string, host HostDNS) (*runtimeapi.DNSConfig, []DNSWarning) {
	var warnings []DNSWarning
	cfg := &runtimeapi.DNSConfig{}
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	useCluster := policy == corev1.DNSClusterFirstWithHostNet || (policy == corev1.DNSClusterFirst && !pod.Spec.HostNetwork)
	useHost := policy == corev1.DNSDefault || (policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork)
	if useCluster && len(clusterDNS) == 0 {
		msg := fmt.Sprintf("kubelet does not have ClusterDNS IP configured and cannot create Pod using %q policy. Falling back to %q policy.",
			corev1.DNSClusterFirst, corev1.DNSDefault)
		warnings = append(warnings, DNSWarning{Reason: "MissingClusterDNS", Message: fmt.Sprintf("pod: %q. %s", pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")", msg)})
		useCluster, useHost = false, true
	}
	switch {
	case useCluster:
		cfg.Servers = append([]string(nil), clusterDNS...)
		cfg.Searches = append([]string(nil), host.Searches...)
		if clusterDomain != "" {
			cfg.Searches = omitDuplicates(append([]string{pod.Namespace + ".svc." + clusterDomain, "svc." + clusterDomain, clusterDomain},
				host.Searches...))
		}
		cfg.Options = []string{"ndots:5"}
	case useHost:
		cfg.Servers = append([]string(nil), host.Servers...)
		cfg.Searches = append([]string(nil), host.Searches...)
		cfg.Options = append([]string(nil), host.Options...)
		if host.Unset {
			cfg.Servers, cfg.Searches, cfg.Options = []string{"127.0.0.1"}, []string{"."}, nil
		}
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		cfg.Servers = omitDuplicates(append(cfg.Servers, dc.Nameservers...))
		cfg.Searches = omitDuplicates(append(cfg.Searches, dc.Searches...))
		cfg.Options = mergeDNSOptions(cfg.Options, dc.Options)
	}
	if len(cfg.Servers) > maxDNSNameservers {
		cfg.Servers = cfg.Servers[:maxDNSNameservers]
		warnings = append(warnings, DNSWarning{Reason: "DNSConfigForming",
			Message: "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: " + strings.Join(cfg.Servers, " ")})
	}
	var cut bool
	cfg.Searches, cut = searchesWithinLimits(cfg.Searches)
	if cut {
		warnings = append(warnings, DNSWarning{Reason: "DNSConfigForming",
			Message: "Search Line limits were exceeded, some search paths have been omitted, the applied search line is: " + strings.Join(cfg.Searches, " ")})
	}
	return cfg, warnings
}

// searchesWithinLimits keeps at most 32 search domains, none longer than
// 253 characters, and a search line of at most 2048 characters (dropping
// from the end); cut says whether anything went.
func searchesWithinLimits(s []string) ([]string, bool) {
	cut := false
	if len(s) > maxDNSSearchPaths {
		s, cut = s[:maxDNSSearchPaths], true
	}
	out := s[:0:0]
	for _, d := range s {
		if len(d) > maxSearchDomainLen {
			cut = true
			continue
		}
		out = append(out, d)
	}
	for len(out) > 0 && len(strings.Join(out, " ")) > maxDNSSearchListChars {
		out, cut = out[:len(out)-1], true
	}
	return out, cut
}

func omitDuplicates(list []string) []string {
	seen := map[string]bool{}
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// mergeDNSOptions lets the pod's options replace the base's of the same name
// (ndots:5 and ndots:2 make ndots:2). The result is sorted by name so the
// sandbox configuration is the same at every sync.
func mergeDNSOptions(base []string, pod []corev1.PodDNSConfigOption) []string {
	opts := map[string]string{}
	for _, o := range base {
		name, value, _ := strings.Cut(o, ":")
		opts[name] = value
	}
	for _, o := range pod {
		v := ""
		if o.Value != nil {
			v = *o.Value
		}
		opts[o.Name] = v
	}
	out := make([]string, 0, len(opts))
	for name, v := range opts {
		if v != "" {
			name += ":" + v
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// HostResolvConf is the resolv.conf the node's pods of the Default policy
// use: /etc/resolv.conf, unless all its name servers are on loopback (a
// local stub such as systemd-resolved's 127.0.0.53, unreachable from a
// pod's network), in which case systemd-resolved's list of real servers is
// used when it exists, as k3s does.
func HostResolvConf() string {
	const etc, resolved = "/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"
	cfg, err := readResolvConf(etc)
	if err != nil || !allLoopback(cfg.Servers) {
		return etc
	}
	if r, err := readResolvConf(resolved); err == nil && len(r.Servers) > 0 && !allLoopback(r.Servers) {
		return resolved
	}
	return etc
}

func allLoopback(servers []string) bool {
	if len(servers) == 0 {
		return false
	}
	for _, s := range servers {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.IsLoopback() {
			return false
		}
	}
	return true
}

// hostDNS reads the node's resolv.conf for PodDNS.
func (o *Options) hostDNS() (HostDNS, error) {
	path := o.ResolvConf
	if path == "" {
		path = "/etc/resolv.conf"
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return HostDNS{}, nil
	}
	c, err := readResolvConf(path)
	if err != nil {
		return HostDNS{}, err
	}
	return HostDNS{Servers: c.Servers, Searches: c.Searches, Options: c.Options}, nil
}
