package plugintest

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Cluster builds nodes node-0..node-(n-1) spread round-robin over zones
// zone-0..zone-(zones-1), with the pods podsOn gives for each node index.
func Cluster(n, zones int, podsOn func(node int) []*corev1.Pod) []*fw.NodeInfo {
	out := make([]*fw.NodeInfo, n)
	for i := range out {
		name := fmt.Sprintf("node-%d", i)
		ni := fw.NewNodeInfo()
		ni.SetNode(Node(name, map[string]string{corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%zones)}))
		for _, p := range podsOn(i) {
			p.Spec.NodeName = name
			ni.AddPodInfo(fw.NewPodInfo(p))
		}
		out[i] = ni
	}
	return out
}

// CPUTimer reports the process's CPU time per benchmark op ("cpu-ns/op") next to
// the wall time, since the plugins spread work over all cores.
type CPUTimer struct{ start time.Duration }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// StartCPU starts counting; call after setup, with b.ResetTimer.
func StartCPU() CPUTimer { return CPUTimer{start: cpuTime()} }

// Report adds cpu-ns/op to the benchmark's results.
func (c CPUTimer) Report(b *testing.B) {
	b.ReportMetric(float64(cpuTime()-c.start)/float64(b.N), "cpu-ns/op")
}

// PlaceOne models the previous cycle's outcome: the pod lands on the node at
// position i of the snapshot's list, which becomes a new node info (as the
// scheduler's snapshot replaces a node that changed).
func PlaceOne(h *Handle, i int, pod *corev1.Pod) {
	list := h.Snapshot.List()
	ni := list[i].Clone()
	p := pod.DeepCopy()
	p.Spec.NodeName = ni.Node().Name
	p.UID = p.UID + "-" + types.UID(fmt.Sprint(i))
	ni.AddPodInfo(fw.NewPodInfo(p))
	list[i] = ni
}
