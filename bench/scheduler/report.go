package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

func report(out io.Writer, rs []result) {
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tnodes\tpods\tscenario\tpods/s\tp50\tp99\tCPU/pod\tRSS MiB\tanon MiB\tpeak MiB\tunbound\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.0f\t%v\t%v\t%.2f ms\t%.0f\t%.0f\t%.0f\t%d\t\n", r.target, r.nodes, r.pods, r.scenario, r.podsPerSecond,
			r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), float64(r.cpuPerPod.Microseconds())/1000, r.rssMiB, r.anonMiB, r.peakMiB, r.unbound)
	}
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(out, "minik8s / upstream, same nodes, pods and scenario:")
	tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "nodes\tpods\tscenario\tpods/s ×\tCPU/pod ÷\tRSS ÷\tpeak RSS ÷\t")
	for _, m := range rs {
		if m.target != "minik8s" {
			continue
		}
		for _, u := range rs {
			if u.target != "upstream" || u.nodes != m.nodes || u.pods != m.pods || u.scenario != m.scenario {
				continue
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t\n", m.nodes, m.pods, m.scenario, ratio(m.podsPerSecond, u.podsPerSecond),
				ratio(float64(u.cpuPerPod), float64(m.cpuPerPod)), ratio(u.rssMiB, m.rssMiB), ratio(u.peakMiB, m.peakMiB))
		}
	}
	tw.Flush()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
