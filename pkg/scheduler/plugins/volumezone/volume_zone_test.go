package volumezone

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

type testHandle struct {
	fw.Handle
	informers informers.SharedInformerFactory
}

func (h *testHandle) SharedInformerFactory() informers.SharedInformerFactory { return h.informers }

func newPlugin(t *testing.T, objs ...runtime.Object) *VolumeZone {
	t.Helper()
	f := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.PersistentVolume:
			err = f.Core().V1().PersistentVolumes().Informer().GetStore().Add(o)
		case *corev1.PersistentVolumeClaim:
			err = f.Core().V1().PersistentVolumeClaims().Informer().GetStore().Add(o)
		case *storagev1.StorageClass:
			err = f.Storage().V1().StorageClasses().Informer().GetStore().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := New(context.Background(), nil, &testHandle{informers: f})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*VolumeZone)
}

func pv(name string, labels map[string]string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func boundClaim(name, volume string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: volume}}
}

func unboundClaim(name, class string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To(class)}}
}

func podUsing(claims ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}}
	for _, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	return p
}

func nodeInfo(labels map[string]string) *fw.NodeInfo {
	ni := fw.NewNodeInfo()
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node", Labels: labels}})
	return ni
}

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.String()
}

func TestVolumeZone(t *testing.T) {
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	immediate := storagev1.VolumeBindingImmediate
	objs := []runtime.Object{
		pv("pv-zone-a", map[string]string{corev1.LabelTopologyZone: "us-west1-a"}),
		pv("pv-beta-zone-a", map[string]string{corev1.LabelFailureDomainBetaZone: "us-west1-a"}),
		pv("pv-region", map[string]string{corev1.LabelTopologyRegion: "us-west1"}),
		pv("pv-two-zones", map[string]string{corev1.LabelTopologyZone: "us-west1-a__us-west1-b"}),
		pv("pv-bad-label", map[string]string{corev1.LabelTopologyZone: "us-west1-a__"}),
		pv("pv-plain", nil),
		boundClaim("zone-a", "pv-zone-a"), boundClaim("beta-zone-a", "pv-beta-zone-a"), boundClaim("region", "pv-region"),
		boundClaim("two-zones", "pv-two-zones"), boundClaim("bad-label", "pv-bad-label"), boundClaim("plain", "pv-plain"),
		boundClaim("lost-volume", "pv-gone"),
		unboundClaim("waiting", "wait"), unboundClaim("immediate", "immediate"), unboundClaim("no-class-object", "missing"),
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "wait"}, VolumeBindingMode: &wait},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "immediate"}, VolumeBindingMode: &immediate},
	}
	zoneA := map[string]string{corev1.LabelTopologyZone: "us-west1-a", corev1.LabelTopologyRegion: "us-west1"}
	zoneB := map[string]string{corev1.LabelTopologyZone: "us-west1-b", corev1.LabelTopologyRegion: "us-west1"}
	betaZoneA := map[string]string{corev1.LabelFailureDomainBetaZone: "us-west1-a"}
	conflict := "UnschedulableAndUnresolvable: " + ErrReasonConflict
	cases := []struct {
		name      string
		pod       *corev1.Pod
		node      map[string]string
		preFilter string
		filter    string
	}{
		{"a pod without claims skips the plugin", podUsing(), zoneA, "Skip: ", ""},
		{"a volume without zone labels skips the plugin", podUsing("plain"), zoneA, "Skip: ", ""},
		{"a volume in the node's zone fits", podUsing("zone-a"), zoneA, "Success", "Success"},
		{"a volume in another zone conflicts", podUsing("zone-a"), zoneB, "Success", conflict},
		{"a node without any topology label takes any volume", podUsing("zone-a"), map[string]string{"other": "label"}, "Success", "Success"},
		{"a node with only a region label lacks the zone", podUsing("zone-a"), map[string]string{corev1.LabelTopologyRegion: "us-west1"}, "Success", conflict},
		{"a volume's beta zone label matches the node's GA label", podUsing("beta-zone-a"), zoneA, "Success", "Success"},
		{"a volume's GA zone label matches only the node's GA label", podUsing("zone-a"), betaZoneA, "Success", conflict},
		{"a volume in the node's region fits any zone of it", podUsing("region"), zoneB, "Success", "Success"},
		{"a volume spanning two zones fits either", podUsing("two-zones"), zoneB, "Success", "Success"},
		{"a zone label that cannot be parsed is ignored", podUsing("bad-label"), zoneB, "Skip: ", ""},
		{"every volume must fit", podUsing("two-zones", "zone-a"), zoneB, "Success", conflict},
		{"an unbound WaitForFirstConsumer claim is left to VolumeBinding", podUsing("waiting"), zoneA, "Skip: ", ""},
		{"an unbound immediate claim has no volume yet", podUsing("immediate"), zoneA, "UnschedulableAndUnresolvable: PersistentVolume had no name", ""},
		{"an unbound claim whose class is missing", podUsing("no-class-object"), zoneA, `UnschedulableAndUnresolvable: storageclass.storage.k8s.io "missing" not found`, ""},
		{"a missing claim", podUsing("nope"), zoneA, `UnschedulableAndUnresolvable: persistentvolumeclaim "nope" not found`, ""},
		{"a claim bound to a missing volume", podUsing("lost-volume"), zoneA, `UnschedulableAndUnresolvable: persistentvolume "pv-gone" not found`, ""},
	}
	pl := newPlugin(t, objs...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := fw.NewCycleState()
			ni := nodeInfo(c.node)
			_, st := pl.PreFilter(context.Background(), state, c.pod, []*fw.NodeInfo{ni})
			if got := statusString(st); got != c.preFilter {
				t.Fatalf("PreFilter: got %q, want %q", got, c.preFilter)
			}
			if !st.IsSuccess() {
				return
			}
			if got := statusString(pl.Filter(context.Background(), state, c.pod, ni)); got != c.filter {
				t.Fatalf("Filter: got %q, want %q", got, c.filter)
			}
		})
	}
}
