package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

func report(out io.Writer, rs []result) {
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tstep\twall\tpods/s\tcontrollers CPU/pod\trest of control plane CPU/pod\tDeployment+RS writes\t")
	for _, r := range rs {
		for _, s := range steps(r) {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%.0f\t%.2f ms\t%.2f ms\t%d\t\n", r.target, s.name, s.p.wall.Round(time.Millisecond),
				float64(r.replicas)/s.p.wall.Seconds(), perPod(s.p.controllersCPU, r.replicas), perPod(s.p.restCPU, r.replicas), s.p.writes)
		}
		fmt.Fprintf(tw, "%s\tscale-up: all pods created / bound\t%v / %v\t\t\t\t\t\n", r.target,
			r.scaleUp.created.Round(time.Millisecond), r.scaleUp.bound.Round(time.Millisecond))
	}
	tw.Flush()
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tcontrollers RSS idle\tanon idle\tRSS with pods\tanon with pods\tpeak RSS\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%.0f MiB\t%.0f MiB\t%.0f MiB\t%.0f MiB\t%.0f MiB\t\n", r.target, r.idleRSS, r.idleAnon, r.loadedRSS, r.loadedAnon, r.peak)
	}
	tw.Flush()
	if len(rs) != 2 {
		return
	}
	m, u := rs[0], rs[1]
	fmt.Fprintln(out)
	fmt.Fprintf(out, "minik8s / upstream (%d nodes, %d replicas): speed × (upstream wall ÷ minik8s wall), CPU and memory ÷ (upstream ÷ minik8s)\n", m.nodes, m.replicas)
	tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tspeed ×\tcontrollers CPU ÷\t")
	ms, us := steps(m), steps(u)
	for i := range ms {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t\n", ms[i].name, ratio(float64(us[i].p.wall), float64(ms[i].p.wall)),
			ratio(float64(us[i].p.controllersCPU), float64(ms[i].p.controllersCPU)))
	}
	tw.Flush()
	fmt.Fprintf(out, "controllers memory ÷: RSS idle %.1f, RSS with pods %.1f, anon with pods %.1f, peak RSS %.1f\n",
		ratio(u.idleRSS, m.idleRSS), ratio(u.loadedRSS, m.loadedRSS), ratio(u.loadedAnon, m.loadedAnon), ratio(u.peak, m.peak))
}

type step struct {
	name string
	p    phase
}

func steps(r result) []step {
	return []step{{"scale 0 → N, all Running", r.scaleUp}, {"rolling update, rolled out", r.rollout}, {"delete namespace, gone", r.nsDelete}}
}

func perPod(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000 / float64(n)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
