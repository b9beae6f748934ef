package queuesort

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func queued(priority *int32, at time.Time) *fw.QueuedPodInfo {
	return &fw.QueuedPodInfo{PodInfo: fw.NewPodInfo(&corev1.Pod{Spec: corev1.PodSpec{Priority: priority}}), Timestamp: at}
}

func TestLess(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Second)
	cases := []struct {
		name string
		a, b *fw.QueuedPodInfo
		want bool
	}{
		{"a higher priority goes first", queued(ptr.To[int32](100), t1), queued(ptr.To[int32](50), t0), true},
		{"a lower priority goes later, however long it waited", queued(ptr.To[int32](50), t0), queued(ptr.To[int32](100), t1), false},
		{"at equal priority the pod queued earlier goes first", queued(ptr.To[int32](100), t0), queued(ptr.To[int32](100), t1), true},
		{"at equal priority the pod queued later goes later", queued(ptr.To[int32](100), t1), queued(ptr.To[int32](100), t0), false},
		{"a pod without priority counts as zero", queued(nil, t0), queued(ptr.To[int32](1), t1), false},
		{"a negative priority goes after zero", queued(nil, t1), queued(ptr.To[int32](-5), t0), true},
		{"a pod is not less than itself", queued(ptr.To[int32](1), t0), queued(ptr.To[int32](1), t0), false},
	}
	pl := &PrioritySort{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pl.Less(c.a, c.b); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
