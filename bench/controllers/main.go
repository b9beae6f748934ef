// Command controllers benchmarks minik8s's controllers against upstream
// kube-controller-manager v1.34 side by side in one run, on the same kind of
// simulated nodes (`minik8s sim`): a Deployment scaled from 0 to N replicas until
// every pod is bound and Running, a rolling update of those N to a new image
// until rolled out, and the deletion of their namespace until it is gone; for
// each, the wall time and the controllers' CPU per pod, then the controllers'
// memory, and the minik8s/upstream ratios.
//
//	go run ./bench/controllers -binary bin/minik8s -upstream ../shared/anchor/upstream.sh
//
// minik8s runs as `minik8s server --disable-agent` with every controller turned
// off (the scheduler and the simulated-node controller run inside it) plus
// `minik8s controller-manager` in a process of its own, so the controllers' CPU
// and memory are their own. Upstream runs upstream.sh's etcd, kube-apiserver,
// kube-scheduler and kube-controller-manager (in a private ANCHOR directory on
// free ports, with the shared anchor's binaries) and `minik8s sim run`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	binary := flag.String("binary", "bin/minik8s", "minik8s binary")
	upstream := flag.String("upstream", "", "path of ../shared/anchor/upstream.sh (empty: minik8s only)")
	anchorBin := flag.String("anchor-bin", "/var/tmp/minik8s-anchor/bin", "upstream binaries (upstream.sh build)")
	nodes := flag.Int("nodes", 100, "simulated nodes")
	replicas := flag.Int("replicas", 1000, "replicas of the Deployment")
	timeout := flag.Duration("timeout", 10*time.Minute, "longest wait for one step")
	pprofPort := flag.Int("pprof-port", 0, "serve the minik8s controller manager's profiles on this port (0: off)")
	skipMinik8s := flag.Bool("skip-minik8s", false, "run upstream only")
	profileDir := flag.String("profile-dir", "", "save CPU profiles of the API servers and of minik8s's controller manager (with -pprof-port) during each step, and its heap after the scale-up, here")
	flag.Parse()

	ctx := context.Background()
	prof := profiler{dir: *profileDir, port: *pprofPort}
	var all []result
	if !*skipMinik8s {
		m, err := newMinik8s(*binary, *pprofPort)
		if err != nil {
			fatal(err)
		}
		r, err := run(ctx, m, *nodes, *replicas, *timeout, prof)
		m.stop()
		if err != nil {
			fatal(fmt.Errorf("minik8s: %w", err))
		}
		all = append(all, r)
	}
	if *upstream != "" {
		u, err := newUpstream(*binary, *upstream, *anchorBin)
		if err != nil {
			fatal(err)
		}
		r, err := run(ctx, u, *nodes, *replicas, *timeout, prof)
		u.stop()
		if err != nil {
			fatal(fmt.Errorf("upstream: %w", err))
		}
		all = append(all, r)
	}
	report(os.Stdout, all)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench/controllers:", err)
	os.Exit(1)
}
