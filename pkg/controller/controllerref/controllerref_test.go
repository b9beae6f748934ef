package controllerref

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

var rsKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

func rs(deleting bool) *appsv1.ReplicaSet {
	r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "rs-uid"}}
	if deleting {
		now := metav1.NewTime(time.Now())
		r.DeletionTimestamp = &now
	}
	return r
}

func pod(name, ns string, owner types.UID, deleting bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(name + "-uid")}}
	if owner != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: owner, Controller: &yes}}
	}
	if deleting {
		now := metav1.NewTime(time.Now())
		p.DeletionTimestamp = &now
	}
	return p
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name       string
		controller *appsv1.ReplicaSet
		obj        *corev1.Pod
		matches    bool
		want       Action
	}{
		{"a controlled pod that matches is kept", rs(false), pod("a", "ns", "rs-uid", false), true, Keep},
		{"a controlled pod that stopped matching is released", rs(false), pod("a", "ns", "rs-uid", false), false, Release},
		{"a dying controller releases nothing", rs(true), pod("a", "ns", "rs-uid", false), false, Ignore},
		{"a dying controller still keeps what it controls", rs(true), pod("a", "ns", "rs-uid", true), true, Keep},
		{"another controller's pod is ignored even if it matches", rs(false), pod("a", "ns", "other", false), true, Ignore},
		{"a matching orphan is adopted", rs(false), pod("a", "ns", "", false), true, Adopt},
		{"an orphan that does not match is ignored", rs(false), pod("a", "ns", "", false), false, Ignore},
		{"an orphan being deleted is not adopted", rs(false), pod("a", "ns", "", true), true, Ignore},
		{"a dying controller adopts nothing", rs(true), pod("a", "ns", "", false), true, Ignore},
		{"adoption never crosses namespaces", rs(false), pod("a", "other", "", false), true, Ignore},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Decide(c.controller, c.obj, c.matches); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestPatchesApplyAsStrategicMergePatches(t *testing.T) {
	owner := rs(false)
	p := pod("a", "ns", "", false)
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "keep", UID: "cm-uid"}}
	orig, _ := json.Marshal(p)
	adopted, err := strategicpatch.StrategicMergePatch(orig, AdoptPatch(owner, rsKind, p.UID), corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	_ = json.Unmarshal(adopted, &got)
	if len(got.OwnerReferences) != 2 || metav1.GetControllerOf(&got) == nil || metav1.GetControllerOf(&got).UID != "rs-uid" ||
		!*metav1.GetControllerOf(&got).BlockOwnerDeletion {
		t.Fatalf("after adoption: %+v", got.OwnerReferences)
	}
	released, err := strategicpatch.StrategicMergePatch(adopted, ReleasePatch("rs-uid", p.UID), corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	got = corev1.Pod{}
	_ = json.Unmarshal(released, &got)
	if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != "cm-uid" {
		t.Errorf("after release: %+v", got.OwnerReferences)
	}
}

func TestAdoptPatchMergesFinalizersIntoTheObjects(t *testing.T) {
	p := pod("a", "ns", "", false)
	p.Finalizers = []string{"example.com/keep"}
	orig, _ := json.Marshal(p)
	adopted, err := strategicpatch.StrategicMergePatch(orig, AdoptPatch(rs(false), rsKind, p.UID, "batch.kubernetes.io/job-tracking"), corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	_ = json.Unmarshal(adopted, &got)
	if !slices.Contains(got.Finalizers, "example.com/keep") || !slices.Contains(got.Finalizers, "batch.kubernetes.io/job-tracking") || len(got.Finalizers) != 2 {
		t.Errorf("finalizers after adoption: %v", got.Finalizers)
	}
	if string(AdoptPatch(rs(false), rsKind, p.UID)) == string(AdoptPatch(rs(false), rsKind, p.UID, "f")) {
		t.Error("the finalizer is not in the patch")
	}
}

func TestClaimAdoptsKeepsAndReleases(t *testing.T) {
	m := &Manager{Controller: rs(false), Kind: rsKind}
	pods := []*corev1.Pod{pod("kept", "ns", "rs-uid", false), pod("orphan", "ns", "", false), pod("stray", "ns", "rs-uid", false), pod("other", "ns", "x", false)}
	patched := map[string]string{}
	claimed, err := Claim(context.Background(), m, pods, func(p *corev1.Pod) bool { return p.Name != "stray" },
		func(_ context.Context, p *corev1.Pod, patch []byte) error {
			patched[p.Name] = string(patch)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 2 || claimed[0].Name != "kept" || claimed[1].Name != "orphan" {
		t.Errorf("claimed %v", claimed)
	}
	if len(patched) != 2 || !strings.Contains(patched["orphan"], `"controller":true`) || !strings.Contains(patched["stray"], `"$patch":"delete"`) {
		t.Errorf("patches: %v", patched)
	}
}

func TestClaimChecksCanAdoptOnceAndReportsFailures(t *testing.T) {
	calls := 0
	m := &Manager{Controller: rs(false), Kind: rsKind, CanAdopt: func(context.Context) error { calls++; return errors.New("rs is being deleted") }}
	pods := []*corev1.Pod{pod("a", "ns", "", false), pod("b", "ns", "", false)}
	claimed, err := Claim(context.Background(), m, pods, func(*corev1.Pod) bool { return true },
		func(context.Context, *corev1.Pod, []byte) error { t.Error("patched despite CanAdopt"); return nil })
	if len(claimed) != 0 || calls != 1 || err == nil || !strings.Contains(err.Error(), "can't adopt Pod ns/a (a-uid): rs is being deleted") {
		t.Errorf("claimed %v, calls %d, err %v", claimed, calls, err)
	}
}

func TestClaimSkipsObjectsThatVanished(t *testing.T) {
	m := &Manager{Controller: rs(false), Kind: rsKind}
	gone := apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "a")
	claimed, err := Claim(context.Background(), m, []*corev1.Pod{pod("a", "ns", "", false)}, func(*corev1.Pod) bool { return true },
		func(context.Context, *corev1.Pod, []byte) error { return gone })
	if len(claimed) != 0 || err != nil {
		t.Errorf("claimed %v, err %v", claimed, err)
	}
}

func TestRecheckDeletion(t *testing.T) {
	live := rs(false)
	if err := RecheckDeletion(live, func(context.Context) (metav1.Object, error) { return rs(false), nil })(context.Background()); err != nil {
		t.Errorf("a live controller: %v", err)
	}
	if err := RecheckDeletion(live, func(context.Context) (metav1.Object, error) { return rs(true), nil })(context.Background()); err == nil || !strings.Contains(err.Error(), "has just been deleted") {
		t.Errorf("a deleted controller: %v", err)
	}
	other := rs(false)
	other.UID = "new"
	if err := RecheckDeletion(live, func(context.Context) (metav1.Object, error) { return other, nil })(context.Background()); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Errorf("a replaced controller: %v", err)
	}
}
