package volumebinding

import (
	"context"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/component-helpers/storage/volume"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/scheduler/cache"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// testHandle is the part of the framework handle the plugin uses.
type testHandle struct {
	fw.Handle
	client    kubernetes.Interface
	informers informers.SharedInformerFactory
	snapshot  fw.NodeInfoLister
}

func (h *testHandle) ClientSet() kubernetes.Interface                        { return h.client }
func (h *testHandle) SharedInformerFactory() informers.SharedInformerFactory { return h.informers }
func (h *testHandle) SnapshotSharedLister() fw.NodeInfoLister                { return h.snapshot }

// fixture is a plugin over a fake API holding objs. With live, the informers
// run (PreBind tests read back what the plugin wrote); otherwise their caches
// are filled directly.
type fixture struct {
	pl     *VolumeBinding
	client *fake.Clientset
	nodes  []*fw.NodeInfo
}

func newFixture(t *testing.T, live bool, nodes []*corev1.Node, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	// Like the API server, every write gets a newer resourceVersion.
	rv := 100
	client.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if o, ok := a.(interface{ GetObject() runtime.Object }); ok && (a.GetVerb() == "update" || a.GetVerb() == "create") {
			if m, err := meta.Accessor(o.GetObject()); err == nil {
				rv++
				m.SetResourceVersion(strconv.Itoa(rv))
			}
		}
		return false, nil, nil
	})
	f := informers.NewSharedInformerFactory(client, 0)
	var infos []*fw.NodeInfo
	for _, n := range nodes {
		ni := fw.NewNodeInfo()
		ni.SetNode(n)
		infos = append(infos, ni)
	}
	h := &testHandle{client: client, informers: f, snapshot: cache.NewSnapshot(infos...)}
	p, err := New(context.Background(), nil, h)
	if err != nil {
		t.Fatal(err)
	}
	pl := p.(*VolumeBinding)
	pl.pollInterval = 10 * time.Millisecond
	if live {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(func() {
			cancel()
			f.Shutdown()
		})
		f.Start(ctx.Done())
		f.WaitForCacheSync(ctx.Done())
	} else {
		for _, o := range objs {
			var err error
			switch o := o.(type) {
			case *corev1.PersistentVolume:
				err = f.Core().V1().PersistentVolumes().Informer().GetStore().Add(o)
			case *corev1.PersistentVolumeClaim:
				err = f.Core().V1().PersistentVolumeClaims().Informer().GetStore().Add(o)
			case *storagev1.StorageClass:
				err = f.Storage().V1().StorageClasses().Informer().GetStore().Add(o)
			case *corev1.Node:
				err = f.Core().V1().Nodes().Informer().GetStore().Add(o)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return &fixture{pl: pl, client: client, nodes: infos}
}

func node(name string, labels map[string]string) *corev1.Node {
	l := map[string]string{corev1.LabelHostname: name}
	for k, v := range labels {
		l[k] = v
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

func class(name string, mode storagev1.VolumeBindingMode, provisioner string, topo ...corev1.TopologySelectorTerm) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner,
		VolumeBindingMode: &mode, AllowedTopologies: topo}
}

var (
	waitClass      = class("wait", storagev1.VolumeBindingWaitForFirstConsumer, volume.NotSupportedProvisioner)
	provisionClass = class("provision", storagev1.VolumeBindingWaitForFirstConsumer, "example.com/provisioner")
	immediateClass = class("immediate", storagev1.VolumeBindingImmediate, "example.com/provisioner")
)

type pvcOpt func(*corev1.PersistentVolumeClaim)

func claim(name, className, size string, opts ...pvcOpt) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), ResourceVersion: "1"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
	if className != "" {
		c.Spec.StorageClassName = ptr.To(className)
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func boundTo(pv string) pvcOpt {
	return func(c *corev1.PersistentVolumeClaim) {
		c.Spec.VolumeName = pv
		metav1.SetMetaDataAnnotation(&c.ObjectMeta, volume.AnnBindCompleted, "yes")
		c.Status.Phase = corev1.ClaimBound
	}
}

func selectedNode(n string) pvcOpt {
	return func(c *corev1.PersistentVolumeClaim) {
		metav1.SetMetaDataAnnotation(&c.ObjectMeta, volume.AnnSelectedNode, n)
	}
}

type pvOpt func(*corev1.PersistentVolume)

func pv(name, className, size string, opts ...pvOpt) *corev1.PersistentVolume {
	v := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "1"},
		Spec: corev1.PersistentVolumeSpec{
			StorageClassName:       className,
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data/" + name}},
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable},
	}
	for _, o := range opts {
		o(v)
	}
	return v
}

func onHosts(hosts ...string) pvOpt {
	return func(v *corev1.PersistentVolume) {
		v.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: hosts}},
		}}}}
	}
}

func inZone(zone string) pvOpt {
	return func(v *corev1.PersistentVolume) {
		v.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{zone}}},
		}}}}
	}
}

func claimRef(c *corev1.PersistentVolumeClaim) pvOpt {
	return func(v *corev1.PersistentVolume) {
		v.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: c.Namespace, Name: c.Name, UID: c.UID}
		v.Status.Phase = corev1.VolumeBound
	}
}

func podWithClaims(name string, claims ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)}}
	for _, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "vol-" + c,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	return p
}
