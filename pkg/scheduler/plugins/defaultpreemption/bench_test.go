package defaultpreemption

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// benchmarkPostFilter fails a pod on 5,000 full nodes (two pods of priority 0
// each) and measures PostFilter alone.
func benchmarkPostFilter(b *testing.B, preemptorPriority int32) {
	const numNodes = 5000
	nodes := make([]*corev1.Node, 0, numNodes)
	pods := make([]*corev1.Pod, 0, 2*numNodes)
	for i := 0; i < numNodes; i++ {
		n := fmt.Sprintf("node-%d", i)
		nodes = append(nodes, node(n, "2"))
		pods = append(pods, pod(n+"-a", 0, "1", on(n, i%60)), pod(n+"-b", 0, "1", on(n, i%30)))
	}
	t := &testing.T{}
	e := newEnv(t, nodes, pods, envOptions{})
	p := pod("p", preemptorPriority, "1")
	e.addToInformer(p)
	state, m := e.failedCycle(p)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	// The machine is shared: CPU time says more than wall time.
	before := cpuTime()
	for i := 0; i < b.N; i++ {
		e.evicted = e.evicted[:0]
		if _, st := e.pl.PostFilter(ctx, state, p, m); st.Code() == fw.Error {
			b.Fatal(st)
		}
		e.recordedEvents()
	}
	b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Most failed pods have nothing of lower priority to preempt: this must cost
// next to nothing beside the filter pass that failed.
func BenchmarkPostFilterNothingToPreempt5000Nodes(b *testing.B) { benchmarkPostFilter(b, 0) }

// A real preemption dry-runs 500 of the 5,000 nodes (10%) and picks one.
func BenchmarkPostFilterPreempt5000Nodes(b *testing.B) { benchmarkPostFilter(b, 10) }
