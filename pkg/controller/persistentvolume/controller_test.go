package persistentvolume

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"
	"k8s.io/component-helpers/storage/volume"
	"k8s.io/utils/ptr"
)

func pv(name, size, class string, phase corev1.PersistentVolumePhase, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolume {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}, AccessModes: modes,
			StorageClassName: class, PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}}},
		Status: corev1.PersistentVolumeStatus{Phase: phase}}
}

func pvc(name, size string, class *string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid")},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: modes, StorageClassName: class,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}}},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
}

func preBound(v *corev1.PersistentVolume, claim string) *corev1.PersistentVolume {
	v.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: claim}
	return v
}

func TestBestMatch(t *testing.T) {
	rwx := corev1.ReadWriteMany
	rwo := corev1.ReadWriteOnce
	fast := ptr.To("fast")
	withSelector := pvc("data", "1Gi", ptr.To(""))
	withSelector.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}
	gold := pv("gold", "5Gi", "", corev1.VolumeAvailable)
	gold.Labels = map[string]string{"tier": "gold"}
	cases := []struct {
		name  string
		claim *corev1.PersistentVolumeClaim
		vols  []*corev1.PersistentVolume
		delay bool
		want  string
	}{
		{"the smallest volume that is big enough wins", pvc("data", "1Gi", ptr.To("")),
			[]*corev1.PersistentVolume{pv("big", "10Gi", "", corev1.VolumeAvailable), pv("small", "2Gi", "", corev1.VolumeAvailable), pv("tiny", "500Mi", "", corev1.VolumeAvailable)}, false, "small"},
		{"a volume of another class is not taken", pvc("data", "1Gi", fast),
			[]*corev1.PersistentVolume{pv("plain", "1Gi", "", corev1.VolumeAvailable), pv("quick", "1Gi", "fast", corev1.VolumeAvailable)}, false, "quick"},
		{"a claim without a class takes only class-less volumes", pvc("data", "1Gi", nil),
			[]*corev1.PersistentVolume{pv("quick", "1Gi", "fast", corev1.VolumeAvailable)}, false, ""},
		{"a volume lacking a requested access mode is not taken", pvc("data", "1Gi", ptr.To(""), rwx),
			[]*corev1.PersistentVolume{pv("rwo", "1Gi", "", corev1.VolumeAvailable, rwo), pv("rwx", "1Gi", "", corev1.VolumeAvailable, rwo, rwx)}, false, "rwx"},
		{"fewer access modes beat a smaller size", pvc("data", "1Gi", ptr.To("")),
			[]*corev1.PersistentVolume{pv("both", "1Gi", "", corev1.VolumeAvailable, rwo, rwx), pv("only", "5Gi", "", corev1.VolumeAvailable, rwo)}, false, "only"},
		{"released and bound volumes are not taken", pvc("data", "1Gi", ptr.To("")),
			[]*corev1.PersistentVolume{pv("released", "1Gi", "", corev1.VolumeReleased), preBound(pv("other", "1Gi", "", corev1.VolumeBound), "someone")}, false, ""},
		{"the selector must match the volume's labels", withSelector,
			[]*corev1.PersistentVolume{pv("plain", "1Gi", "", corev1.VolumeAvailable), gold}, false, "gold"},
		{"a volume pre-bound to the claim comes first", pvc("data", "1Gi", ptr.To("")),
			[]*corev1.PersistentVolume{pv("small", "1Gi", "", corev1.VolumeAvailable), preBound(pv("mine", "8Gi", "", corev1.VolumeAvailable), "data")}, false, "mine"},
		{"waiting for the first consumer, only a pre-bound volume is taken", pvc("data", "1Gi", ptr.To("")),
			[]*corev1.PersistentVolume{pv("small", "1Gi", "", corev1.VolumeAvailable)}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := BestMatch(c.claim, c.vols, c.delay)
			if err != nil {
				t.Fatal(err)
			}
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != c.want {
				t.Errorf("BestMatch = %q, want %q", name, c.want)
			}
		})
	}
}

func TestReclaim(t *testing.T) {
	withPolicy := func(p corev1.PersistentVolumeReclaimPolicy, provisionedBy string) *corev1.PersistentVolume {
		v := pv("pv1", "1Gi", "", corev1.VolumeReleased)
		v.Spec.PersistentVolumeReclaimPolicy = p
		if provisionedBy != "" {
			v.Annotations = map[string]string{volume.AnnDynamicallyProvisioned: provisionedBy}
		}
		return v
	}
	cases := []struct {
		name       string
		pv         *corev1.PersistentVolume
		wantFail   bool
		wantReason string
	}{
		{"a retained volume stays Released", withPolicy(corev1.PersistentVolumeReclaimRetain, ""), false, ""},
		{"deletion of an externally provisioned volume is its provisioner's", withPolicy(corev1.PersistentVolumeReclaimDelete, "csi.example.com"), false, ""},
		{"deletion without a plugin fails", withPolicy(corev1.PersistentVolumeReclaimDelete, ""), true, reasonVolumeFailedDelete},
		{"recycling without a plugin fails", withPolicy(corev1.PersistentVolumeReclaimRecycle, ""), true, reasonVolumeFailedRecycle},
		{"an unknown policy fails", withPolicy("Shred", ""), true, reasonUnknownReclaimPolicy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, reason, _, fail := Reclaim(c.pv)
			if fail != c.wantFail || reason != c.wantReason {
				t.Errorf("Reclaim = %q, %v", reason, fail)
			}
		})
	}
}

func TestWaitMessageNamesThePodsWaitingToBeScheduled(t *testing.T) {
	for _, c := range []struct {
		pods            []string
		reason, message string
	}{
		{nil, "WaitForFirstConsumer", "waiting for first consumer to be created before binding"},
		{[]string{"web-0"}, "WaitForPodScheduled", "waiting for pod web-0 to be scheduled"},
		{[]string{"a", "b"}, "WaitForPodScheduled", "waiting for pods a,b to be scheduled"},
	} {
		if r, m := waitMessage(c.pods); r != c.reason || m != c.message {
			t.Errorf("waitMessage(%v) = %q %q", c.pods, r, m)
		}
	}
}

func TestVolumeSatisfiesClaimSaysWhyNot(t *testing.T) {
	if err := VolumeSatisfiesClaim(pv("pv1", "1Gi", "", corev1.VolumeAvailable), pvc("data", "2Gi", ptr.To(""))); err == nil || err.Error() != "requested PV is too small" {
		t.Errorf("err = %v", err)
	}
	if err := VolumeSatisfiesClaim(pv("pv1", "1Gi", "slow", corev1.VolumeAvailable), pvc("data", "1Gi", ptr.To(""))); err == nil || err.Error() != "storageClassName does not match" {
		t.Errorf("err = %v", err)
	}
	if err := VolumeSatisfiesClaim(pv("pv1", "1Gi", "", corev1.VolumeAvailable), pvc("data", "1Gi", ptr.To(""))); err != nil {
		t.Errorf("err = %v", err)
	}
}

type fixture struct {
	c      *Controller
	client *fake.Clientset
	rec    *events.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	rec := events.NewFakeRecorder(20)
	c, err := New(Config{Client: client, Volumes: factory.Core().V1().PersistentVolumes(), Claims: factory.Core().V1().PersistentVolumeClaims(),
		Classes: factory.Storage().V1().StorageClasses(), Pods: factory.Core().V1().Pods(), Recorder: rec, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var err error
		switch o.(type) {
		case *corev1.PersistentVolume:
			err = factory.Core().V1().PersistentVolumes().Informer().GetIndexer().Add(o)
		case *corev1.PersistentVolumeClaim:
			err = factory.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(o)
		case *storagev1.StorageClass:
			err = factory.Storage().V1().StorageClasses().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return fixture{c, client, rec}
}

func (f fixture) claim(t *testing.T, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	c, err := f.client.CoreV1().PersistentVolumeClaims("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f fixture) volume(t *testing.T, name string) *corev1.PersistentVolume {
	t.Helper()
	v, err := f.client.CoreV1().PersistentVolumes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f fixture) event(t *testing.T) string {
	t.Helper()
	select {
	case e := <-f.rec.Events:
		return e
	default:
		return ""
	}
}

func TestAnUnboundClaimIsBoundToAMatchingVolume(t *testing.T) {
	f := newFixture(t, pvc("data", "1Gi", ptr.To("")), pv("pv1", "2Gi", "", corev1.VolumeAvailable))
	if err := f.c.SyncClaim(context.Background(), "ns/data"); err != nil && !strings.Contains(err.Error(), "requeue") {
		t.Fatal(err)
	}
	v := f.volume(t, "pv1")
	if v.Spec.ClaimRef == nil || v.Spec.ClaimRef.UID != "data-uid" || v.Status.Phase != corev1.VolumeBound || v.Annotations[volume.AnnBoundByController] != "yes" {
		t.Errorf("volume = %+v %+v %v", v.Spec.ClaimRef, v.Status, v.Annotations)
	}
	c := f.claim(t, "data")
	if c.Spec.VolumeName != "pv1" || c.Annotations[volume.AnnBindCompleted] != "yes" || c.Annotations[volume.AnnBoundByController] != "yes" {
		t.Errorf("claim = %s %v", c.Spec.VolumeName, c.Annotations)
	}
	if c.Status.Phase != corev1.ClaimBound || c.Status.Capacity.Storage().String() != "2Gi" || len(c.Status.AccessModes) != 1 {
		t.Errorf("claim status = %+v", c.Status)
	}
}

func TestAClaimWithoutVolumeOrClassGetsUpstreamsFailedBindingEvent(t *testing.T) {
	f := newFixture(t, pvc("data", "1Gi", nil))
	_ = f.c.SyncClaim(context.Background(), "ns/data")
	if e := f.event(t); e != "Normal FailedBinding no persistent volumes available for this claim and no storage class is set" {
		t.Errorf("event = %q", e)
	}
	if c := f.claim(t, "data"); c.Status.Phase != corev1.ClaimPending || c.Spec.VolumeName != "" {
		t.Errorf("claim = %+v", c)
	}
}

func TestAWaitForFirstConsumerClaimWaitsForItsPod(t *testing.T) {
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Provisioner: "kubernetes.io/no-provisioner", VolumeBindingMode: &wait}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "ns"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "d",
		VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}}}
	f := newFixture(t, class, pod, pvc("data", "1Gi", ptr.To("local")), pv("pv1", "2Gi", "local", corev1.VolumeAvailable))
	_ = f.c.SyncClaim(context.Background(), "ns/data")
	if e := f.event(t); e != "Normal WaitForPodScheduled waiting for pod web-0 to be scheduled" {
		t.Errorf("event = %q", e)
	}
	if v := f.volume(t, "pv1"); v.Spec.ClaimRef != nil {
		t.Errorf("the controller bound a WaitForFirstConsumer claim: %+v", v.Spec.ClaimRef)
	}
}

func TestAClaimOfAClassWithAnExternalProvisionerIsAnnotatedForIt(t *testing.T) {
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "csi"}, Provisioner: "csi.example.com", VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate)}
	f := newFixture(t, class, pvc("data", "1Gi", ptr.To("csi")))
	_ = f.c.SyncClaim(context.Background(), "ns/data")
	if c := f.claim(t, "data"); c.Annotations[volume.AnnStorageProvisioner] != "csi.example.com" {
		t.Errorf("annotations = %v", c.Annotations)
	}
	if e := f.event(t); !strings.HasPrefix(e, "Normal ExternalProvisioning Waiting for a volume to be created either by the external provisioner 'csi.example.com'") {
		t.Errorf("event = %q", e)
	}
}

func TestAClassWithAnInTreeProvisionerReportsNoPlugin(t *testing.T) {
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Provisioner: "kubernetes.io/no-provisioner", VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate)}
	f := newFixture(t, class, pvc("data", "1Gi", ptr.To("local")))
	_ = f.c.SyncClaim(context.Background(), "ns/data")
	if e := f.event(t); e != "Warning ProvisioningFailed no volume plugin matched name: kubernetes.io/no-provisioner" {
		t.Errorf("event = %q", e)
	}
}

func TestAVolumeWhoseClaimIsGoneIsReleasedAndRetained(t *testing.T) {
	v := preBound(pv("pv1", "1Gi", "", corev1.VolumeBound), "data")
	v.Spec.ClaimRef.UID = "gone-uid"
	f := newFixture(t, v)
	if err := f.c.SyncVolume(context.Background(), "pv1"); err != nil {
		t.Fatal(err)
	}
	if got := f.volume(t, "pv1"); got.Status.Phase != corev1.VolumeReleased {
		t.Errorf("phase = %s", got.Status.Phase)
	}
}

func TestAReleasedVolumeToBeDeletedWithoutAPluginFails(t *testing.T) {
	v := preBound(pv("pv1", "1Gi", "", corev1.VolumeBound), "data")
	v.Spec.ClaimRef.UID = "gone-uid"
	v.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimDelete
	f := newFixture(t, v)
	if err := f.c.SyncVolume(context.Background(), "pv1"); err != nil {
		t.Fatal(err)
	}
	if got := f.volume(t, "pv1"); got.Status.Phase != corev1.VolumeFailed {
		t.Errorf("phase = %s", got.Status.Phase)
	}
	if e := f.event(t); e != `Warning VolumeFailedDelete error getting deleter volume plugin for volume "pv1": no deletable volume plugin matched` {
		t.Errorf("event = %q", e)
	}
}

func TestABoundClaimWhoseVolumeIsGoneIsLost(t *testing.T) {
	c := pvc("data", "1Gi", ptr.To(""))
	c.Spec.VolumeName = "pv1"
	c.Annotations = map[string]string{volume.AnnBindCompleted: "yes"}
	c.Status.Phase = corev1.ClaimBound
	f := newFixture(t, c)
	if err := f.c.SyncClaim(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	if got := f.claim(t, "data"); got.Status.Phase != corev1.ClaimLost {
		t.Errorf("phase = %s", got.Status.Phase)
	}
	if e := f.event(t); e != "Warning ClaimLost Bound claim has lost its PersistentVolume. Data on the volume is lost!" {
		t.Errorf("event = %q", e)
	}
}

func TestANewVolumeBecomesAvailable(t *testing.T) {
	f := newFixture(t, pv("pv1", "1Gi", "", corev1.VolumePending))
	if err := f.c.SyncVolume(context.Background(), "pv1"); err != nil {
		t.Fatal(err)
	}
	if got := f.volume(t, "pv1"); got.Status.Phase != corev1.VolumeAvailable {
		t.Errorf("phase = %s", got.Status.Phase)
	}
}
