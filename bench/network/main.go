// Command network benchmarks minik8s's service proxy and cluster DNS side by
// side with upstream kube-proxy v1.34 (nftables mode) and CoreDNS, all reading
// the same Services and EndpointSlices from one minik8s API server:
//
//	go run ./bench/network -binary bin/minik8s
//
// For each Service count (svc-N in namespace bench, one TCP port, an
// EndpointSlice of 10 ready endpoints, no selector) it measures, one program
// at a time so none steals CPU from another:
//
//   - each proxy, started in a network namespace of its own (`minik8s proxy`;
//     kube-proxy with a kubeadm-like configuration), which reaches the API
//     server over a veth pair: the time from its start until the last
//     Service is in its nftables table, then, for one endpoint change at a
//     time (a slice update through the API, a second apart), the time until
//     the kernel holds the new address, and for a change of a Service's
//     port until it holds the new ClusterIP . port key, both read from the
//     nftables notifications the kernel sends once it has committed a
//     transaction; the process's CPU (with its nft children) and memory;
//   - each DNS server on 127.0.0.1 (`minik8s dns`; CoreDNS with kubernetes
//     and cache 30): queries per second and latency of A queries for the
//     Service names with 16, 64 and 256 queries in flight over UDP, the
//     server's CPU per query and memory.
//
// It must run as root (network namespaces); it removes the namespaces, the
// veth pairs and the server's data at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	binary := flag.String("binary", "bin/minik8s", "minik8s binary")
	kubeProxyPath := flag.String("kube-proxy", "/var/tmp/minik8s-anchor/bin/kube-proxy", "upstream kube-proxy (empty: skip it)")
	coreDNSPath := flag.String("coredns", "/var/tmp/minik8s-conformance/images/work/bin/coredns", "CoreDNS binary (empty: skip it)")
	servicesFlag := flag.String("services", "1000,10000", "Service counts, ascending")
	endpoints := flag.Int("endpoints", 10, "endpoints per Service")
	changes := flag.Int("changes", 50, "endpoint changes timed per proxy and Service count")
	serviceChanges := flag.Int("service-changes", 10, "Service port changes timed per proxy and Service count")
	upstreamChanges := flag.Int("upstream-changes", 20, "at most this many endpoint changes, and Service changes, timed for kube-proxy (each takes seconds to minutes at 10,000 Services)")
	gap := flag.Duration("change-gap", time.Second, "pause after each change is live")
	upstreamGap := flag.Duration("upstream-change-gap", time.Second, "pause after each change is live for kube-proxy (it syncs at most once a second from the start of its last sync, so a change 1 s after the last one was live finds it idle)")
	inflightFlag := flag.String("dns-inflight", "16,64,256", "DNS queries in flight, one load each")
	dnsDuration := flag.Duration("dns-duration", 10*time.Second, "length of each DNS load")
	skipProxy := flag.Bool("skip-proxy", false, "measure DNS only")
	skipDNS := flag.Bool("skip-dns", false, "measure the proxies only")
	profileDir := flag.String("profile-dir", "", "save CPU profiles of minik8s's proxy (its first 15 s) and DNS (each load) here")
	keepLogs := flag.Bool("keep-logs", false, "keep the programs' logs (the folder is printed)")
	flag.Parse()

	if os.Geteuid() != 0 {
		fatal(fmt.Errorf("must run as root (it creates network namespaces)"))
	}
	counts, err := ints(*servicesFlag)
	if err != nil {
		fatal(err)
	}
	inflights, err := ints(*inflightFlag)
	if err != nil {
		fatal(err)
	}
	prof := profiler{dir: *profileDir, seconds: 15}
	if prof.on() {
		if prof.port, err = freePort(); err != nil {
			fatal(err)
		}
		if err := os.MkdirAll(prof.dir, 0o755); err != nil {
			fatal(err)
		}
	}
	proxies := []proxyImpl{minik8sProxy(*binary, prof)}
	if *kubeProxyPath != "" {
		proxies = append(proxies, kubeProxy(*kubeProxyPath))
	}
	dnss := []dnsImpl{minik8sDNS(*binary, prof)}
	if *coreDNSPath != "" {
		dnss = append(dnss, coreDNS(*coreDNSPath))
	}

	ctx := context.Background()
	c, err := startCluster(ctx, *binary)
	if err != nil {
		fatal(err)
	}
	// Interrupted: leave the machine as it was (the programs die with the
	// bench, the namespaces would not).
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigc
		live.removeAll()
		c.stop(false)
		os.Exit(1)
	}()
	var proxyResults []proxyResult
	var dnsResults []dnsResult
	run := func() error {
		for _, n := range counts {
			start := time.Now()
			if err := c.ensureServices(ctx, n, *endpoints); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%d Services × %d endpoints in the API (%v)\n", n, *endpoints, time.Since(start).Round(time.Millisecond))
			if !*skipProxy {
				for slot, impl := range proxies {
					plan := proxyPlan{changes: *changes, serviceChanges: *serviceChanges, gap: *gap, startTimeout: 10 * time.Minute,
						liveTimeout: 2 * time.Minute}
					if impl.name != "minik8s" {
						plan.changes = min(*changes, *upstreamChanges)
						plan.serviceChanges = min(*serviceChanges, *upstreamChanges)
						plan.gap = *upstreamGap
					}
					r, err := measureProxy(ctx, c, impl, slot, n, plan)
					if err != nil {
						return fmt.Errorf("%s at %d Services: %w", impl.name, n, err)
					}
					proxyResults = append(proxyResults, r)
				}
			}
			if !*skipDNS {
				for _, impl := range dnss {
					rs, err := measureDNS(c, impl, n, inflights, *dnsDuration)
					if err != nil {
						return fmt.Errorf("%s DNS at %d Services: %w", impl.name, n, err)
					}
					dnsResults = append(dnsResults, rs...)
				}
			}
		}
		return nil
	}
	err = run()
	c.stop(err != nil || *keepLogs)
	if err != nil {
		fatal(err)
	}
	report(os.Stdout, proxyResults, dnsResults)
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench/network:", err)
	os.Exit(1)
}
