package volumebinding

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-helpers/storage/volume"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

var testNodes = []*corev1.Node{
	node("node-a", map[string]string{corev1.LabelTopologyZone: "zone-a"}),
	node("node-b", map[string]string{corev1.LabelTopologyZone: "zone-b"}),
}

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.Code().String() + ": " + strings.Join(s.Reasons(), "; ")
}

func TestPreFilterAndFilter(t *testing.T) {
	deleting := claim("pvc-a", "wait", "1Gi")
	deleting.DeletionTimestamp = &metav1.Time{}
	lost := claim("pvc-a", "wait", "1Gi", boundTo("gone"))
	lost.Status.Phase = corev1.ClaimLost
	prebound := claim("pvc-a", "wait", "1Gi")
	prebound.Spec.VolumeName = "pv-a"
	selectorClaim := claim("pvc-a", "wait", "1Gi", func(c *corev1.PersistentVolumeClaim) {
		c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "fast"}}
	})
	rwx := claim("pvc-a", "wait", "1Gi", func(c *corev1.PersistentVolumeClaim) {
		c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
	})
	ephemeralPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}}}}}
	zonal := class("zonal", "WaitForFirstConsumer", "example.com/provisioner", corev1.TopologySelectorTerm{
		MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: corev1.LabelTopologyZone, Values: []string{"zone-b"}}}})

	cases := []struct {
		name      string
		pod       *corev1.Pod
		objs      []runtime.Object
		preFilter string
		narrowTo  []string
		filter    map[string]string
	}{
		{name: "a pod without claims skips the plugin", pod: &corev1.Pod{}, preFilter: "Skip: "},
		{name: "a missing claim rejects the pod until it is created", pod: podWithClaims("p", "pvc-a"),
			preFilter: `UnschedulableAndUnresolvable: persistentvolumeclaim "pvc-a" not found`},
		{name: "a missing ephemeral claim waits for the ephemeral volume controller", pod: ephemeralPod,
			preFilter: `UnschedulableAndUnresolvable: waiting for ephemeral volume controller to create the persistentvolumeclaim "web-scratch"`},
		{name: "a claim being deleted rejects the pod", pod: podWithClaims("p", "pvc-a"), objs: []runtime.Object{waitClass, deleting},
			preFilter: `UnschedulableAndUnresolvable: persistentvolumeclaim "pvc-a" is being deleted`},
		{name: "a lost claim rejects the pod", pod: podWithClaims("p", "pvc-a"), objs: []runtime.Object{waitClass, lost},
			preFilter: `UnschedulableAndUnresolvable: persistentvolumeclaim "pvc-a" bound to non-existent persistentvolume "gone"`},
		{name: "an unbound claim of an Immediate class waits for the PV controller", pod: podWithClaims("p", "pvc-a"),
			objs: []runtime.Object{immediateClass, claim("pvc-a", "immediate", "1Gi")}, preFilter: "UnschedulableAndUnresolvable: " + ErrReasonUnboundImmediate},
		{name: "an unbound claim without a class binds immediately, so it waits too", pod: podWithClaims("p", "pvc-a"),
			objs: []runtime.Object{claim("pvc-a", "", "1Gi")}, preFilter: "UnschedulableAndUnresolvable: " + ErrReasonUnboundImmediate},
		{name: "an unbound claim whose class does not exist binds immediately", pod: podWithClaims("p", "pvc-a"),
			objs: []runtime.Object{claim("pvc-a", "missing", "1Gi")}, preFilter: "UnschedulableAndUnresolvable: " + ErrReasonUnboundImmediate},
		{name: "a claim naming its volume but not yet bound counts as immediate", pod: podWithClaims("p", "pvc-a"),
			objs: []runtime.Object{waitClass, prebound, pv("pv-a", "wait", "1Gi")}, preFilter: "UnschedulableAndUnresolvable: " + ErrReasonUnboundImmediate},
		{name: "a bound volume without node affinity fits every node", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{claim("pvc-a", "wait", "1Gi", boundTo("pv-a")), pv("pv-a", "wait", "1Gi")},
			filter: map[string]string{"node-a": "Success", "node-b": "Success"}},
		{name: "a bound volume in one zone conflicts with nodes of other zones", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{claim("pvc-a", "wait", "1Gi", boundTo("pv-a")), pv("pv-a", "wait", "1Gi", inZone("zone-a"))},
			filter: map[string]string{"node-a": "Success", "node-b": "UnschedulableAndUnresolvable: " + ErrReasonNodeConflict}},
		{name: "a bound local volume narrows the nodes to its host", pod: podWithClaims("p", "pvc-a"),
			objs:     []runtime.Object{claim("pvc-a", "wait", "1Gi", boundTo("pv-a")), pv("pv-a", "wait", "1Gi", onHosts("node-b"))},
			narrowTo: []string{"node-b"},
			filter:   map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonNodeConflict, "node-b": "Success"}},
		{name: "a claim bound to a volume that does not exist fails on every node", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{claim("pvc-a", "wait", "1Gi", boundTo("pv-a"))},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonPVNotExist, "node-b": "UnschedulableAndUnresolvable: " + ErrReasonPVNotExist}},
		{name: "a waiting claim fits where an available volume's node affinity admits the node", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi"), pv("pv-a", "wait", "1Gi", onHosts("node-a"))},
			filter: map[string]string{"node-a": "Success", "node-b": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a volume smaller than the request does not match", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{waitClass, claim("pvc-a", "wait", "2Gi"), pv("pv-a", "wait", "1Gi")},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a volume of another class does not match", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi"), pv("pv-a", "other", "1Gi")},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a volume that is not Available does not match", pod: podWithClaims("p", "pvc-a"),
			objs: []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi"), pv("pv-a", "wait", "1Gi", func(v *corev1.PersistentVolume) {
				v.Status.Phase = corev1.VolumeReleased
			})},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a new volume still Pending matches, as no PV controller marks it Available", pod: podWithClaims("p", "pvc-a"),
			objs: []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi"), pv("pv-a", "wait", "1Gi", func(v *corev1.PersistentVolume) {
				v.Status.Phase = corev1.VolumePending
			})},
			filter: map[string]string{"node-a": "Success"}},
		{name: "a volume bound to another claim does not match", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi"), pv("pv-a", "wait", "1Gi", claimRef(claim("other", "wait", "1Gi")))},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a volume without the claim's access modes does not match", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{waitClass, rwx, pv("pv-a", "wait", "1Gi")},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a volume outside the claim's selector does not match", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{waitClass, selectorClaim, pv("pv-a", "wait", "1Gi")},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a volume already naming the claim wins, and only where it fits", pod: podWithClaims("p", "pvc-a"),
			objs: []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi"), pv("pv-small", "wait", "1Gi"),
				pv("pv-a", "wait", "5Gi", onHosts("node-a"), claimRef(claim("pvc-a", "wait", "1Gi")))},
			filter: map[string]string{"node-a": "Success", "node-b": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "two claims cannot share one volume", pod: podWithClaims("p", "pvc-a", "pvc-b"),
			objs:   []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi"), claim("pvc-b", "wait", "1Gi"), pv("pv-a", "wait", "1Gi")},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict}},
		{name: "a class with a provisioner provisions where no volume is available", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{provisionClass, claim("pvc-a", "provision", "1Gi")},
			filter: map[string]string{"node-a": "Success", "node-b": "Success"}},
		{name: "a class provisions only in its allowed topologies", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{zonal, claim("pvc-a", "zonal", "1Gi")},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict, "node-b": "Success"}},
		{name: "a claim already provisioning for one node fits only that node", pod: podWithClaims("p", "pvc-a"),
			objs:   []runtime.Object{provisionClass, claim("pvc-a", "provision", "1Gi", selectedNode("node-b"))},
			filter: map[string]string{"node-a": "UnschedulableAndUnresolvable: " + ErrReasonBindConflict, "node-b": "Success"}},
		{name: "bound and waiting claims are both judged and their reasons listed together", pod: podWithClaims("p", "pvc-a", "pvc-b"),
			objs: []runtime.Object{waitClass, claim("pvc-a", "wait", "1Gi", boundTo("pv-a")), pv("pv-a", "wait", "1Gi", inZone("zone-a")),
				claim("pvc-b", "wait", "1Gi"), pv("pv-b", "wait", "1Gi", inZone("zone-a"))},
			filter: map[string]string{"node-a": "Success",
				"node-b": "UnschedulableAndUnresolvable: " + ErrReasonNodeConflict + "; " + ErrReasonBindConflict}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, false, testNodes, c.objs...)
			state := fw.NewCycleState()
			res, st := f.pl.PreFilter(context.Background(), state, c.pod, f.nodes)
			want := c.preFilter
			if want == "" {
				want = "Success"
			}
			if got := statusString(st); got != want {
				t.Fatalf("PreFilter: got %q, want %q", got, want)
			}
			var narrowed []string
			if !res.AllNodes() {
				for n := range res.NodeNames {
					narrowed = append(narrowed, n)
				}
				sort.Strings(narrowed)
			}
			if !reflect.DeepEqual(narrowed, c.narrowTo) {
				t.Errorf("PreFilter narrowed to %v, want %v", narrowed, c.narrowTo)
			}
			if !st.IsSuccess() {
				return
			}
			for _, ni := range f.nodes {
				want, ok := c.filter[ni.Node().Name]
				if !ok {
					continue
				}
				if got := statusString(f.pl.Filter(context.Background(), state, c.pod, ni)); got != want {
					t.Errorf("Filter on %s: got %q, want %q", ni.Node().Name, got, want)
				}
			}
		})
	}
}

func TestReserveChoosesTheSmallestVolumeThatFits(t *testing.T) {
	f := newFixture(t, false, testNodes, waitClass, claim("pvc-a", "wait", "1Gi"),
		pv("pv-big", "wait", "10Gi"), pv("pv-small", "wait", "2Gi"), pv("pv-tiny", "wait", "500Mi"), pv("pv-elsewhere", "wait", "1Gi", onHosts("node-b")))
	pod := podWithClaims("p", "pvc-a")
	state := fw.NewCycleState()
	if _, st := f.pl.PreFilter(context.Background(), state, pod, f.nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.pl.Reserve(context.Background(), state, pod, "node-a"); !st.IsSuccess() {
		t.Fatal(st)
	}
	s, _ := readState(state)
	if len(s.reserved.static) != 1 || s.reserved.static[0].pv.Name != "pv-small" {
		t.Fatalf("reserved %+v, want pv-small", s.reserved.static)
	}
	if r := s.reserved.static[0].pv.Spec.ClaimRef; r == nil || r.Name != "pvc-a" || r.UID != "uid-pvc-a" {
		t.Fatalf("reserved volume's claimRef = %+v", r)
	}
	if s.reserved.static[0].pv.Annotations[volume.AnnBoundByController] != "yes" {
		t.Fatalf("reserved volume lacks %s", volume.AnnBoundByController)
	}
}

func TestAVolumeReservedForOnePodIsTakenForTheNext(t *testing.T) {
	f := newFixture(t, false, testNodes, waitClass, claim("pvc-a", "wait", "1Gi"), claim("pvc-b", "wait", "1Gi"), pv("pv-a", "wait", "1Gi"))
	first, second := podWithClaims("first", "pvc-a"), podWithClaims("second", "pvc-b")
	s1 := fw.NewCycleState()
	if _, st := f.pl.PreFilter(context.Background(), s1, first, f.nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.pl.Reserve(context.Background(), s1, first, "node-a"); !st.IsSuccess() {
		t.Fatal(st)
	}
	s2 := fw.NewCycleState()
	if _, st := f.pl.PreFilter(context.Background(), s2, second, f.nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	if got := statusString(f.pl.Filter(context.Background(), s2, second, f.nodes[0])); got != "UnschedulableAndUnresolvable: "+ErrReasonBindConflict {
		t.Fatalf("second pod while the volume is reserved: %s", got)
	}
	f.pl.Unreserve(context.Background(), s1, first, "node-a")
	s3 := fw.NewCycleState()
	if _, st := f.pl.PreFilter(context.Background(), s3, second, f.nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.pl.Filter(context.Background(), s3, second, f.nodes[0]); !st.IsSuccess() {
		t.Fatalf("second pod after Unreserve: %v", st)
	}
}

func TestPreBindBindsTheChosenVolumeToTheClaim(t *testing.T) {
	f := newFixture(t, true, testNodes, waitClass, claim("pvc-a", "wait", "1Gi"), pv("pv-a", "wait", "3Gi", onHosts("node-a")))
	pod := podWithClaims("p", "pvc-a")
	ctx := context.Background()
	state := fw.NewCycleState()
	if _, st := f.pl.PreFilter(ctx, state, pod, f.nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.pl.Reserve(ctx, state, pod, "node-a"); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.pl.PreBind(ctx, state, pod, "node-a"); !st.IsSuccess() {
		t.Fatal(st)
	}
	gotPV, err := f.client.CoreV1().PersistentVolumes().Get(ctx, "pv-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := gotPV.Spec.ClaimRef; r == nil || r.Namespace != "default" || r.Name != "pvc-a" || r.UID != "uid-pvc-a" || r.Kind != "PersistentVolumeClaim" {
		t.Errorf("volume claimRef = %+v", gotPV.Spec.ClaimRef)
	}
	if gotPV.Status.Phase != corev1.VolumeBound || gotPV.Annotations[volume.AnnBoundByController] != "yes" {
		t.Errorf("volume phase %q annotations %v", gotPV.Status.Phase, gotPV.Annotations)
	}
	gotPVC, err := f.client.CoreV1().PersistentVolumeClaims("default").Get(ctx, "pvc-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if gotPVC.Spec.VolumeName != "pv-a" || gotPVC.Annotations[volume.AnnBindCompleted] != "yes" || gotPVC.Annotations[volume.AnnBoundByController] != "yes" {
		t.Errorf("claim volumeName %q annotations %v", gotPVC.Spec.VolumeName, gotPVC.Annotations)
	}
	size := gotPVC.Status.Capacity[corev1.ResourceStorage]
	if gotPVC.Status.Phase != corev1.ClaimBound || size.String() != "3Gi" || !reflect.DeepEqual(gotPVC.Status.AccessModes, gotPV.Spec.AccessModes) {
		t.Errorf("claim status %+v", gotPVC.Status)
	}
}

func TestPreBindAsksForProvisioningAndWaitsForTheVolume(t *testing.T) {
	f := newFixture(t, true, testNodes, provisionClass, claim("pvc-a", "provision", "1Gi"))
	pod := podWithClaims("p", "pvc-a")
	ctx := context.Background()
	state := fw.NewCycleState()
	if _, st := f.pl.PreFilter(ctx, state, pod, f.nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.pl.Reserve(ctx, state, pod, "node-b"); !st.IsSuccess() {
		t.Fatal(st)
	}
	// A provisioner answers the selected-node annotation with a volume that names
	// the claim.
	go func() {
		for ctx.Err() == nil {
			c, err := f.client.CoreV1().PersistentVolumeClaims("default").Get(ctx, "pvc-a", metav1.GetOptions{})
			if err == nil && c.Annotations[volume.AnnSelectedNode] == "node-b" {
				v := pv("pvc-a-volume", "provision", "1Gi", onHosts("node-b"), claimRef(c))
				v.ResourceVersion = ""
				_, _ = f.client.CoreV1().PersistentVolumes().Create(ctx, v, metav1.CreateOptions{})
				return
			}
		}
	}()
	if st := f.pl.PreBind(ctx, state, pod, "node-b"); !st.IsSuccess() {
		t.Fatal(st)
	}
	gotPVC, err := f.client.CoreV1().PersistentVolumeClaims("default").Get(ctx, "pvc-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if gotPVC.Spec.VolumeName != "pvc-a-volume" || gotPVC.Status.Phase != corev1.ClaimBound {
		t.Errorf("claim after provisioning: volumeName %q phase %q", gotPVC.Spec.VolumeName, gotPVC.Status.Phase)
	}
}

func TestPreBindGivesUpWhenNothingProvisions(t *testing.T) {
	f := newFixture(t, true, testNodes, provisionClass, claim("pvc-a", "provision", "1Gi"))
	f.pl.bindTimeout = 50 * f.pl.pollInterval / 10
	pod := podWithClaims("p", "pvc-a")
	ctx := context.Background()
	state := fw.NewCycleState()
	if _, st := f.pl.PreFilter(ctx, state, pod, f.nodes); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := f.pl.Reserve(ctx, state, pod, "node-a"); !st.IsSuccess() {
		t.Fatal(st)
	}
	st := f.pl.PreBind(ctx, state, pod, "node-a")
	if st.Code() != fw.Error || !strings.HasPrefix(st.Message(), "binding volumes: ") {
		t.Fatalf("got %v, want a binding volumes error", st)
	}
	c, _ := f.client.CoreV1().PersistentVolumeClaims("default").Get(ctx, "pvc-a", metav1.GetOptions{})
	if c.Annotations[volume.AnnSelectedNode] != "node-a" {
		t.Errorf("claim annotations %v, want the selected node", c.Annotations)
	}
}

func TestArgs(t *testing.T) {
	cases := []struct {
		name string
		args *schedconfig.VolumeBindingArgs
		want string
	}{
		{"no arguments take the defaults", nil, ""},
		{"a zero timeout is valid", &schedconfig.VolumeBindingArgs{BindTimeoutSeconds: ptr.To[int64](0)}, ""},
		{"a negative timeout is invalid", &schedconfig.VolumeBindingArgs{BindTimeoutSeconds: ptr.To[int64](-10)},
			"bindTimeoutSeconds: Invalid value: -10: invalid BindTimeoutSeconds, should not be a negative value"},
		{"a shape needs the StorageCapacityScoring feature", &schedconfig.VolumeBindingArgs{Shape: []schedconfig.UtilizationShapePoint{{Utilization: 0, Score: 10}}},
			"unexpected field `shape`, remove it or turn on the feature gate StorageCapacityScoring"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args runtime.Object
			if c.args != nil {
				args = c.args
			}
			_, err := New(context.Background(), args, &testHandle{informers: newFixture(t, false, nil).pl.handle.SharedInformerFactory()})
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestQueueingHints(t *testing.T) {
	pod := podWithClaims("p", "pvc-a")
	cases := []struct {
		name string
		fn   fw.QueueingHintFn
		old  interface{}
		new  interface{}
		want fw.QueueingHint
	}{
		{"the pod's own claim changing may help", isSchedulableAfterClaimChange, nil, claim("pvc-a", "wait", "1Gi"), fw.Queue},
		{"another claim does not", isSchedulableAfterClaimChange, nil, claim("pvc-b", "wait", "1Gi"), fw.QueueSkip},
		{"a new storage class may help", isSchedulableAfterStorageClassChange, nil, waitClass, fw.Queue},
		{"a class update that keeps its topologies does not", isSchedulableAfterStorageClassChange, waitClass, waitClass, fw.QueueSkip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.fn(pod, c.old, c.new)
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
