package nodevolumelimits

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
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

func newPlugin(t *testing.T, objs ...runtime.Object) *CSILimits {
	t.Helper()
	f := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	p, err := New(context.Background(), nil, &testHandle{informers: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.PersistentVolume:
			err = f.Core().V1().PersistentVolumes().Informer().GetStore().Add(o)
		case *corev1.PersistentVolumeClaim:
			err = f.Core().V1().PersistentVolumeClaims().Informer().GetStore().Add(o)
		case *storagev1.StorageClass:
			err = f.Storage().V1().StorageClasses().Informer().GetStore().Add(o)
		case *storagev1.CSINode:
			err = f.Storage().V1().CSINodes().Informer().GetStore().Add(o)
		case *storagev1.VolumeAttachment:
			err = f.Storage().V1().VolumeAttachments().Informer().GetStore().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return p.(*CSILimits)
}

func csiPV(name, driver string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: "handle-" + name}}}}
}

func hostPathPV(name string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}}}
}

func bound(name, pv string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: pv}}
}

func unbound(name, class string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To(class)}}
}

func csiNode(limits map[string]int32) *storagev1.CSINode {
	cn := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	for d, n := range limits {
		cn.Spec.Drivers = append(cn.Spec.Drivers, storagev1.CSINodeDriver{Name: d, NodeID: "node-1", Allocatable: &storagev1.VolumeNodeResources{Count: ptr.To(n)}})
	}
	return cn
}

func attachment(name, attacher, pv string) *storagev1.VolumeAttachment {
	return &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: storagev1.VolumeAttachmentSpec{
		Attacher: attacher, NodeName: "node-1", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr.To(pv)}}}
}

func podUsing(name string, claims ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name)}}
	for _, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	return p
}

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.String()
}

func TestCSILimits(t *testing.T) {
	const ebs, gce = "ebs.csi.aws.com", "pd.csi.storage.gke.io"
	objs := []runtime.Object{
		csiPV("pv-1", ebs), csiPV("pv-2", ebs), csiPV("pv-3", ebs), csiPV("pv-gce", gce), hostPathPV("pv-host"),
		bound("c1", "pv-1"), bound("c2", "pv-2"), bound("c3", "pv-3"), bound("c-gce", "pv-gce"), bound("c-host", "pv-host"),
		func() *corev1.PersistentVolumeClaim {
			c := bound("c-gone-pv", "pv-missing")
			c.Spec.StorageClassName = ptr.To("ebs-class")
			return c
		}(), unbound("c-unbound", "ebs-class"), unbound("c-unbound-2", "ebs-class"),
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "ebs-class"}, Provisioner: ebs},
	}
	exceeded := "Unschedulable: " + ErrReasonMaxVolumeCountExceeded
	cases := []struct {
		name      string
		pod       *corev1.Pod
		existing  []*corev1.Pod
		extra     []runtime.Object
		limits    map[string]int32
		preFilter string
		filter    string
	}{
		{name: "a pod without claims skips the plugin", pod: podUsing("p"), limits: map[string]int32{ebs: 1}, preFilter: "Skip: "},
		{name: "a pod with only non-CSI volumes skips the plugin", pod: podUsing("p", "c-host"), limits: map[string]int32{ebs: 1}, preFilter: "Skip: "},
		{name: "a missing claim rejects the pod", pod: podUsing("p", "nope"),
			preFilter: `UnschedulableAndUnresolvable: looking up PVC ns/nope: persistentvolumeclaim "nope" not found`},
		{name: "a volume within the limit fits", pod: podUsing("p", "c1"), limits: map[string]int32{ebs: 1}, preFilter: "Success", filter: "Success"},
		{name: "a node without a CSINode has no limits", pod: podUsing("p", "c1", "c2"), existing: []*corev1.Pod{podUsing("e", "c3")},
			preFilter: "Success", filter: "Success"},
		{name: "volumes of pods on the node count toward the limit", pod: podUsing("p", "c1"), existing: []*corev1.Pod{podUsing("e", "c2", "c3")},
			limits: map[string]int32{ebs: 2}, preFilter: "Success", filter: exceeded},
		{name: "a volume shared with a pod on the node is counted once", pod: podUsing("p", "c1"), existing: []*corev1.Pod{podUsing("e", "c1", "c2")},
			limits: map[string]int32{ebs: 2}, preFilter: "Success", filter: "Success"},
		{name: "another driver's volumes do not count", pod: podUsing("p", "c1"), existing: []*corev1.Pod{podUsing("e", "c-gce")},
			limits: map[string]int32{ebs: 1, gce: 1}, preFilter: "Success", filter: "Success"},
		{name: "a driver without a limit takes any number", pod: podUsing("p", "c-gce"), existing: []*corev1.Pod{podUsing("e", "c1")},
			limits: map[string]int32{ebs: 1}, preFilter: "Success", filter: "Success"},
		{name: "an unbound claim counts against its class's provisioner", pod: podUsing("p", "c-unbound", "c-unbound-2"),
			limits: map[string]int32{ebs: 1}, preFilter: "Success", filter: exceeded},
		{name: "a claim whose volume is gone counts against its class", pod: podUsing("p", "c1", "c-gone-pv"),
			limits: map[string]int32{ebs: 1}, preFilter: "Success", filter: exceeded},
		{name: "a volume still attached for a deleted pod takes its slot", pod: podUsing("p", "c1"),
			extra: []runtime.Object{attachment("va-3", ebs, "pv-3")}, limits: map[string]int32{ebs: 1}, preFilter: "Success", filter: exceeded},
		{name: "an attachment of the pod's own volume is not counted twice", pod: podUsing("p", "c1"),
			extra: []runtime.Object{attachment("va-1", ebs, "pv-1")}, limits: map[string]int32{ebs: 1}, preFilter: "Success", filter: "Success"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := append(append([]runtime.Object{}, objs...), c.extra...)
			if c.limits != nil {
				all = append(all, csiNode(c.limits))
			}
			pl := newPlugin(t, all...)
			ni := fw.NewNodeInfo(c.existing...)
			ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}})
			state := fw.NewCycleState()
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
