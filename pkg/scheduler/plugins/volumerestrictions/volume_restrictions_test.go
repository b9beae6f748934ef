package volumerestrictions

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

type testHandle struct {
	fw.Handle
	informers informers.SharedInformerFactory
}

func (h *testHandle) SharedInformerFactory() informers.SharedInformerFactory { return h.informers }

func newPlugin(t *testing.T, pvcs ...*corev1.PersistentVolumeClaim) *VolumeRestrictions {
	t.Helper()
	f := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	for _, c := range pvcs {
		if err := f.Core().V1().PersistentVolumeClaims().Informer().GetStore().Add(c); err != nil {
			t.Fatal(err)
		}
	}
	p, err := New(context.Background(), nil, &testHandle{informers: f})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*VolumeRestrictions)
}

func podWith(name, ns string, vols ...corev1.VolumeSource) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(ns + "/" + name)}}
	for i, v := range vols {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: string(rune('a' + i)), VolumeSource: v})
	}
	return p
}

func nodeWith(pods ...*corev1.Pod) *fw.NodeInfo {
	ni := fw.NewNodeInfo(pods...)
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}})
	return ni
}

func gce(name string, ro bool) corev1.VolumeSource {
	return corev1.VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: name, ReadOnly: ro}}
}

func ebs(id string) corev1.VolumeSource {
	return corev1.VolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: id}}
}

func rbd(mons []string, pool, image string, ro bool) corev1.VolumeSource {
	return corev1.VolumeSource{RBD: &corev1.RBDVolumeSource{CephMonitors: mons, RBDPool: pool, RBDImage: image, ReadOnly: ro}}
}

func iscsi(iqn string, ro bool) corev1.VolumeSource {
	return corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "127.0.0.1:3260", IQN: iqn, ReadOnly: ro}}
}

func claimVol(name string) corev1.VolumeSource {
	return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}
}

func claim(name, ns string, mode corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{mode}}}
}

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.String()
}

func TestDiskConflicts(t *testing.T) {
	cases := []struct {
		name     string
		pod      *corev1.Pod
		existing *corev1.Pod
		want     string
	}{
		{"a pod without in-tree disks fits", podWith("p", "ns"), podWith("e", "ns", gce("disk", false)), "Success"},
		{"the same GCE disk mounted read-write twice conflicts", podWith("p", "ns", gce("disk", false)), podWith("e", "ns", gce("disk", false)),
			"Unschedulable: " + ErrReasonDiskConflict},
		{"the same GCE disk read-only on both sides fits", podWith("p", "ns", gce("disk", true)), podWith("e", "ns", gce("disk", true)), "Success"},
		{"another GCE disk fits", podWith("p", "ns", gce("disk", false)), podWith("e", "ns", gce("other", false)), "Success"},
		{"the same EBS volume conflicts even read-only", podWith("p", "ns", ebs("vol-1")), podWith("e", "ns", ebs("vol-1")),
			"Unschedulable: " + ErrReasonDiskConflict},
		{"another EBS volume fits", podWith("p", "ns", ebs("vol-1")), podWith("e", "ns", ebs("vol-2")), "Success"},
		{"an RBD image on a shared monitor and pool conflicts", podWith("p", "ns", rbd([]string{"a", "b"}, "pool", "img", false)),
			podWith("e", "ns", rbd([]string{"b", "c"}, "pool", "img", false)), "Unschedulable: " + ErrReasonDiskConflict},
		{"an RBD image on other monitors fits", podWith("p", "ns", rbd([]string{"a"}, "pool", "img", false)),
			podWith("e", "ns", rbd([]string{"c"}, "pool", "img", false)), "Success"},
		{"an RBD image read-only on both sides fits", podWith("p", "ns", rbd([]string{"a"}, "pool", "img", true)),
			podWith("e", "ns", rbd([]string{"a"}, "pool", "img", true)), "Success"},
		{"the same iSCSI target read-write conflicts", podWith("p", "ns", iscsi("iqn.2016-12.org:t1", false)),
			podWith("e", "ns", iscsi("iqn.2016-12.org:t1", true)), "Unschedulable: " + ErrReasonDiskConflict},
		{"another iSCSI target fits", podWith("p", "ns", iscsi("iqn.2016-12.org:t1", false)),
			podWith("e", "ns", iscsi("iqn.2016-12.org:t2", false)), "Success"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl := newPlugin(t)
			ni := nodeWith(c.existing)
			state := fw.NewCycleState()
			_, st := pl.PreFilter(context.Background(), state, c.pod, []*fw.NodeInfo{ni})
			if st.IsSkip() {
				if c.want != "Success" {
					t.Fatalf("PreFilter skipped, want %s", c.want)
				}
				return
			}
			if got := statusString(pl.Filter(context.Background(), state, c.pod, ni)); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestReadWriteOncePod(t *testing.T) {
	rwop := claim("data", "ns", corev1.ReadWriteOncePod)
	rwo := claim("shared", "ns", corev1.ReadWriteOnce)
	user := podWith("user", "ns", claimVol("data"))
	cases := []struct {
		name      string
		pod       *corev1.Pod
		claims    []*corev1.PersistentVolumeClaim
		running   []*corev1.Pod
		preFilter string
		filter    string
	}{
		{"a pod without claims skips the plugin", podWith("p", "ns"), nil, nil, "Skip: ", ""},
		{"a missing claim rejects the pod", podWith("p", "ns", claimVol("data")), nil, nil,
			`UnschedulableAndUnresolvable: persistentvolumeclaim "data" not found`, ""},
		{"a ReadWriteOncePod claim nobody uses skips the plugin", podWith("p", "ns", claimVol("data")), []*corev1.PersistentVolumeClaim{rwop}, nil, "Skip: ", ""},
		{"a ReadWriteOncePod claim in use rejects every node", podWith("p", "ns", claimVol("data")), []*corev1.PersistentVolumeClaim{rwop},
			[]*corev1.Pod{user}, "Success", "Unschedulable: " + ErrReasonReadWriteOncePodConflict},
		{"a ReadWriteOnce claim in use is no conflict here", podWith("p", "ns", claimVol("shared")), []*corev1.PersistentVolumeClaim{rwo},
			[]*corev1.Pod{podWith("other", "ns", claimVol("shared"))}, "Skip: ", ""},
		{"a claim of the same name in another namespace is another claim", podWith("p", "ns", claimVol("data")),
			[]*corev1.PersistentVolumeClaim{rwop}, []*corev1.Pod{podWith("user", "elsewhere", claimVol("data"))}, "Skip: ", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl := newPlugin(t, c.claims...)
			// The user runs on another node: the conflict is cluster-wide.
			other := nodeWith(c.running...)
			empty := nodeWith()
			state := fw.NewCycleState()
			_, st := pl.PreFilter(context.Background(), state, c.pod, []*fw.NodeInfo{other, empty})
			if got := statusString(st); got != c.preFilter {
				t.Fatalf("PreFilter: got %q, want %q", got, c.preFilter)
			}
			if !st.IsSuccess() {
				return
			}
			if got := statusString(pl.Filter(context.Background(), state, c.pod, empty)); got != c.filter {
				t.Fatalf("Filter: got %q, want %q", got, c.filter)
			}
		})
	}
}

func TestPreemptionRemovingTheClaimUserClearsTheConflict(t *testing.T) {
	user := podWith("user", "ns", claimVol("data"))
	pl := newPlugin(t, claim("data", "ns", corev1.ReadWriteOncePod))
	ni := nodeWith(user)
	pod := podWith("p", "ns", claimVol("data"))
	state := fw.NewCycleState()
	if _, st := pl.PreFilter(context.Background(), state, pod, []*fw.NodeInfo{ni}); !st.IsSuccess() {
		t.Fatal(st)
	}
	trial := state.Clone()
	if st := pl.RemovePod(context.Background(), trial, pod, fw.NewPodInfo(user), ni); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := pl.Filter(context.Background(), trial, pod, ni); !st.IsSuccess() {
		t.Fatalf("after removing the user: %v", st)
	}
	if st := pl.Filter(context.Background(), state, pod, ni); st.IsSuccess() {
		t.Fatal("the original state changed with the trial")
	}
}
