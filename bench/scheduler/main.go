// Command scheduler benchmarks minik8s's scheduler against upstream kube-scheduler
// v1.34 side by side in one run, on the same simulated nodes (`minik8s sim`): for
// each node count, pod count and scenario it creates the pods as fast as it can and
// reports pods bound per second, create→bound latency (p50, p99), the scheduler's
// CPU per pod and its memory, then the ratios.
//
//	go run ./bench/scheduler -binary bin/minik8s -upstream ../shared/anchor/upstream.sh
//
// minik8s runs as `minik8s server --disable-scheduler` plus `minik8s scheduler` in a
// process of its own, so the scheduler's CPU and memory are its own; upstream runs
// etcd, kube-apiserver and kube-scheduler (no controller manager), with the same
// simulated nodes kept by `minik8s sim run`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	binary := flag.String("binary", "bin/minik8s", "minik8s binary")
	upstream := flag.String("upstream", "", "path of ../shared/anchor/upstream.sh (empty: minik8s only)")
	anchor := flag.String("anchor", "/var/tmp/minik8s-anchor", "upstream.sh's ANCHOR directory")
	nodesFlag := flag.String("nodes", "500,5000", "simulated node counts, ascending")
	podsFlag := flag.String("pods", "1000,10000", "pods per run")
	upstreamPods := flag.Int("upstream-max-pods", 0, "largest pod count to run on upstream (0: all; upstream binds about 30 pods/s)")
	scenariosFlag := flag.String("scenarios", "basic,spread,antiaffinity", "scenarios: basic, spread (zone topology spread), antiaffinity (required pod anti-affinity on hostname)")
	timeout := flag.Duration("timeout", 20*time.Minute, "longest wait for one run's pods to be bound")
	pprofPort := flag.Int("pprof-port", 0, "serve minik8s's scheduler profiles on this port and save its CPU and heap profiles of each run in -profile-dir")
	profileDir := flag.String("profile-dir", "", "where -pprof-port's profiles go")
	flag.Parse()

	nodes, err := ints(*nodesFlag)
	if err != nil {
		fatal(err)
	}
	pods, err := ints(*podsFlag)
	if err != nil {
		fatal(err)
	}
	scenarios := strings.Split(*scenariosFlag, ",")
	for _, s := range scenarios {
		if _, ok := podTemplates[s]; !ok {
			fatal(fmt.Errorf("unknown scenario %q", s))
		}
	}
	ctx := context.Background()
	plan := plan{nodes: nodes, pods: pods, scenarios: scenarios, timeout: *timeout, binary: *binary,
		profiles: profiler{port: *pprofPort, dir: *profileDir}}
	var all []result
	m, err := newMinik8s(*binary, *pprofPort)
	if err != nil {
		fatal(err)
	}
	rs, err := plan.run(ctx, m, 0)
	m.stop()
	if err != nil {
		fatal(err)
	}
	all = append(all, rs...)
	if *upstream != "" {
		u, err := newUpstream(*binary, *upstream, *anchor)
		if err != nil {
			fatal(err)
		}
		rs, err := plan.run(ctx, u, *upstreamPods)
		u.stop()
		if err != nil {
			fatal(err)
		}
		all = append(all, rs...)
	}
	report(os.Stdout, all)
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
	fmt.Fprintln(os.Stderr, "bench/scheduler:", err)
	os.Exit(1)
}
