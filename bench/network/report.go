package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

func report(out io.Writer, proxies []proxyResult, dnss []dnsResult) {
	if len(proxies) > 0 {
		fmt.Fprintln(out, "Service proxies (change through the API → in the kernel):")
		tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "target\tservices\tstart→all live\town full sync\tinstalled\tstart CPU\tendpoint p50\tp99\t(n)\tservice p50\tp99\t(n)\ttimed out\tCPU/change\tRSS MiB\tpeak MiB\t")
		for _, r := range proxies {
			fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%d\t%v\t%v\t%v\t%d\t%v\t%v\t%d\t%d\t%v\t%.0f\t%.0f\t\n", r.target, r.services, r.startLive.Round(time.Millisecond),
				r.ownSync.Round(time.Millisecond), r.installed, r.startCPU, roundLatency(r.endpoint.p50), roundLatency(r.endpoint.p99), r.endpoint.n,
				roundLatency(r.service.p50), roundLatency(r.service.p99), r.service.n, r.timeouts, r.changeCPU.Round(100*time.Microsecond), r.rssMiB, r.peakMiB)
		}
		tw.Flush()
		fmt.Fprintln(out)
		fmt.Fprintln(out, "kube-proxy / minik8s, same Services (how many times faster or smaller minik8s is):")
		tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "services\tstart→all live\tstart CPU\tendpoint p50\tp99\tservice p50\tp99\tCPU/change\tRSS\t")
		for _, m := range proxies {
			if m.target != "minik8s" {
				continue
			}
			for _, u := range proxies {
				if u.target == "kube-proxy" && u.services == m.services {
					fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t\n", m.services, ratio(float64(u.startLive), float64(m.startLive)),
						ratio(float64(u.startCPU), float64(m.startCPU)), ratio(float64(u.endpoint.p50), float64(m.endpoint.p50)),
						ratio(float64(u.endpoint.p99), float64(m.endpoint.p99)), ratio(float64(u.service.p50), float64(m.service.p50)),
						ratio(float64(u.service.p99), float64(m.service.p99)), ratio(float64(u.changeCPU), float64(m.changeCPU)), ratio(u.rssMiB, m.rssMiB))
				}
			}
		}
		tw.Flush()
		fmt.Fprintln(out)
	}
	if len(dnss) > 0 {
		fmt.Fprintln(out, "Cluster DNS (A queries for Service names over UDP):")
		tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "target\tservices\tin flight\tqueries/s\tp50\tp99\tfailed\tlost\tCPU/query\tclient CPU\tRSS MiB\tpeak MiB\t")
		for _, r := range dnss {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%v\t%v\t%d\t%d\t%v\t%.0f%%\t%.0f\t%.0f\t\n", r.target, r.services, r.inflight, r.qps,
				roundLatency(r.p50), roundLatency(r.p99), r.failed, r.lost, r.cpuPerQuery, r.clientCPUPercent, r.rssMiB, r.peakMiB)
		}
		tw.Flush()
		fmt.Fprintln(out)
		fmt.Fprintln(out, "minik8s / CoreDNS, same Services and queries in flight:")
		tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "services\tin flight\tqueries/s ×\tp99 ÷\tCPU/query ÷\tRSS ÷\t")
		for _, m := range dnss {
			if m.target != "minik8s" {
				continue
			}
			for _, u := range dnss {
				if u.target == "coredns" && u.services == m.services && u.inflight == m.inflight {
					fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", m.services, m.inflight, ratio(m.qps, u.qps),
						ratio(float64(u.p99), float64(m.p99)), ratio(float64(u.cpuPerQuery), float64(m.cpuPerQuery)), ratio(u.rssMiB, m.rssMiB))
				}
			}
		}
		tw.Flush()
		fmt.Fprintln(out)
	}
	// The memory target: proxy and DNS together.
	for _, p := range proxies {
		if p.target != "minik8s" {
			continue
		}
		for _, d := range lastDNS(dnss, "minik8s", p.services) {
			fmt.Fprintf(out, "minik8s proxy + DNS at %d Services: %.0f MiB RSS (peaks %.0f + %.0f MiB)\n", p.services, p.rssMiB+d.rssMiB, p.peakMiB, d.peakMiB)
		}
	}
}

// lastDNS is the last DNS result of target at n Services (its memory after every load).
func lastDNS(rs []dnsResult, target string, n int) []dnsResult {
	var out []dnsResult
	for _, r := range rs {
		if r.target == target && r.services == n {
			out = []dnsResult{r}
		}
	}
	return out
}

func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
