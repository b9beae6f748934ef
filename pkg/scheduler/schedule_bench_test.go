package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"

	schedcache "github.com/minik8s/minik8s/pkg/scheduler/cache"
	"github.com/minik8s/minik8s/pkg/scheduler/config"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
	"github.com/minik8s/minik8s/pkg/scheduler/queue"
)

// newOffline builds a scheduler without an API server: cache, snapshot and the
// default profile, for benchmarks and tests of the algorithm.
func newOffline(tb testing.TB) (*Scheduler, *profile.Profile) {
	tb.Helper()
	client := fake.NewSimpleClientset()
	s := &Scheduler{cfg: Config{Parallelism: 16}, client: client, cache: schedcache.New(), snapshot: schedcache.NewEmptySnapshot(),
		profiles: map[string]*profile.Profile{}, log: slog.New(slog.DiscardHandler), parallel: fw.NewParallelizer(16)}
	s.informers = informers.NewSharedInformerFactory(client, 0)
	s.metrics = newMetrics(nil)
	s.queue = queue.New(queue.Config{Less: func(a, b *fw.QueuedPodInfo) bool { return false }})
	kcfg := config.Default()
	pc := config.Profiles(kcfg)[0]
	p, err := profile.New(context.Background(), pc, plugins.Registry(), profile.Deps{Client: client, Informers: s.informers,
		Recorder: &events.FakeRecorder{}, Snapshot: s.snapshot, Nominator: s.queue.Nominator(), Parallelizer: s.parallel})
	if err != nil {
		tb.Fatal(err)
	}
	s.profiles[p.Name()] = p
	return s, p
}

func benchNode(i, zones int) *corev1.Node {
	name := fmt.Sprintf("node-%05d", i)
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		corev1.LabelHostname: name, corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%zones)}},
		Status: corev1.NodeStatus{Capacity: rl, Allocatable: rl}}
}

func benchPod(i int) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%06d", i), Namespace: "bench", UID: types.UID(fmt.Sprintf("uid-%06d", i)),
		Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{SchedulerName: "default-scheduler", Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("128Mi")}}}}}}
}

// BenchmarkSchedulingCycle5000Nodes times the scheduling cycle (snapshot update,
// filter, score, assume) of plain pods on 5,000 nodes with 10,000 pods bound.
func BenchmarkSchedulingCycle5000Nodes(b *testing.B) {
	s, p := newOffline(b)
	for i := 0; i < 5000; i++ {
		s.cache.AddNode(benchNode(i, 3))
	}
	for i := 0; i < 10000; i++ {
		pod := benchPod(1_000_000 + i)
		pod.Spec.NodeName = fmt.Sprintf("node-%05d", i%5000)
		s.cache.AddPod(pod)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for i := 0; i < b.N; i++ {
		pod := benchPod(i)
		s.cache.UpdateSnapshot(s.snapshot)
		res, _, err := s.schedulePod(ctx, p, fw.NewCycleState(), pod)
		if err != nil {
			b.Fatal(err)
		}
		pod.Spec.NodeName = res.host
		if err := s.cache.AssumePod(pod); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the process's user+system CPU time: on a busy machine it says more
// than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
