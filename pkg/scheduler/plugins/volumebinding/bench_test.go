package volumebinding

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// benchCycle runs PreFilter and Filter over 5,000 nodes, as one scheduling cycle.
func benchCycle(b *testing.B, pod *corev1.Pod, objs ...runtime.Object) {
	var nodes []*corev1.Node
	for i := 0; i < 5000; i++ {
		nodes = append(nodes, node(fmt.Sprintf("node-%d", i), map[string]string{corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%3)}))
	}
	t := &testing.T{}
	f := newFixture(t, false, nodes, objs...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		state := fw.NewCycleState()
		_, st := f.pl.PreFilter(ctx, state, pod, f.nodes)
		if st.IsSkip() {
			continue
		}
		if !st.IsSuccess() {
			b.Fatal(st)
		}
		for _, ni := range f.nodes {
			f.pl.Filter(ctx, state, pod, ni)
		}
	}
}

func BenchmarkCycleOfAPodWithoutClaims(b *testing.B) {
	benchCycle(b, &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "tmp",
		VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}})
}

func BenchmarkCycleOfAPodWithABoundZonalClaim(b *testing.B) {
	benchCycle(b, podWithClaims("p", "pvc-a"), claim("pvc-a", "wait", "1Gi", boundTo("pv-a")), pv("pv-a", "wait", "1Gi", inZone("zone-1")))
}

func BenchmarkCycleOfAPodWithAWaitingClaimAnd100LocalVolumes(b *testing.B) {
	objs := []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi")}
	for i := 0; i < 100; i++ {
		objs = append(objs, pv(fmt.Sprintf("pv-%d", i), "wait", "1Gi", onHosts(fmt.Sprintf("node-%d", i*50))))
	}
	benchCycle(b, podWithClaims("p", "pvc-a"), objs...)
}
