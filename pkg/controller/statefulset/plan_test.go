package statefulset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestDecide(t *testing.T) {
	type tc struct {
		name   string
		set    *appsv1.StatefulSet
		pods   func(*appsv1.StatefulSet) []*corev1.Pod
		claims []*corev1.PersistentVolumeClaim
		gate   bool
		want   string
		// deletedForUpdate is plan.updateDeletions.
		deletedForUpdate int
	}
	at := func(specs ...interface{}) func(*appsv1.StatefulSet) []*corev1.Pod {
		// specs: ordinal, revision, state, ...
		return func(set *appsv1.StatefulSet) []*corev1.Pod {
			var out []*corev1.Pod
			for i := 0; i+2 < len(specs); i += 3 {
				out = append(out, pod(set, specs[i].(int), specs[i+1].(string), specs[i+2].(state)))
			}
			return out
		}
	}
	withStart := func(set *appsv1.StatefulSet, start int32) *appsv1.StatefulSet {
		set.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: start}
		return set
	}
	onDelete := func(set *appsv1.StatefulSet) *appsv1.StatefulSet {
		set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		return set
	}
	minReady := func(set *appsv1.StatefulSet, s int32) *appsv1.StatefulSet {
		set.Spec.MinReadySeconds = s
		return set
	}
	deleting := func(set *appsv1.StatefulSet) *appsv1.StatefulSet {
		set.DeletionTimestamp = &metav1.Time{Time: now}
		return set
	}
	scaledDelete := func(set *appsv1.StatefulSet) *appsv1.StatefulSet {
		set.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = remove
		return set
	}
	staleClaim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "www-web-0", Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "web-0", UID: "an-earlier-pod", Controller: ptr(true)}}}}
	claimOf := func(name string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
	}
	cases := []tc{
		{name: "a new OrderedReady set creates only its first pod", set: newSet(3), pods: at(), want: "create web-0"},
		{name: "the next ordinal waits while the one before is Pending", set: newSet(3), pods: at(0, "r2", pending), want: ""},
		{name: "the next ordinal waits while the one before is Running but not Ready", set: newSet(3), pods: at(0, "r2", notReady), want: ""},
		{name: "the next ordinal is created once the one before is Running and Ready", set: newSet(3),
			pods: at(0, "r2", ready), want: "create web-1"},
		{name: "the next ordinal waits out the one before's minReadySeconds", set: minReady(newSet(3), 10),
			pods: at(0, "r2", justReady), want: ""},
		{name: "a set whose pods are all Running and Ready does nothing", set: newSet(3),
			pods: at(0, "r2", ready, 1, "r2", ready, 2, "r2", ready), want: ""},
		{name: "a gap in the middle is filled in ordinal order", set: newSet(3),
			pods: at(0, "r2", ready, 2, "r2", ready), want: "create web-1"},
		{name: "a Parallel set creates every pod at once", set: parallel(newSet(3)), pods: at(),
			want: "create web-0; create web-1; create web-2"},
		{name: "a Parallel set does not wait for unready pods", set: parallel(newSet(3)), pods: at(0, "r2", pending),
			want: "create web-1; create web-2"},
		{name: "spec.ordinals.start numbers the pods from it", set: withStart(newSet(2), 5), pods: at(), want: "create web-5"},
		{name: "a pod below spec.ordinals.start is scaled away", set: withStart(newSet(2), 1),
			pods: at(0, "r2", ready, 1, "r2", ready, 2, "r2", ready), want: "delete web-0"},
		{name: "scaling down removes the highest ordinal first and one at a time", set: newSet(1),
			pods: at(0, "r2", ready, 1, "r2", ready, 2, "r2", ready), want: "delete web-2"},
		{name: "scaling down waits for the terminating pod to go", set: newSet(1),
			pods: at(0, "r2", ready, 1, "r2", ready, 2, "r2", terminating), want: ""},
		{name: "scaling down waits while a pod the set keeps is unhealthy", set: newSet(1),
			pods: at(0, "r2", notReady, 1, "r2", ready), want: ""},
		{name: "an unhealthy pod at the top is scaled away first", set: newSet(1),
			pods: at(0, "r2", ready, 1, "r2", ready, 2, "r2", notReady), want: "delete web-2"},
		{name: "a healthy pod above an unhealthy one being scaled away still goes first", set: newSet(1),
			pods: at(0, "r2", ready, 1, "r2", notReady, 2, "r2", ready), want: "delete web-2"},
		{name: "a Parallel set scales down all at once", set: parallel(newSet(1)),
			pods: at(0, "r2", ready, 1, "r2", ready, 2, "r2", notReady), want: "delete web-2; delete web-1"},
		{name: "a failed pod is deleted to be replaced and the ordinals above wait", set: newSet(3),
			pods: at(0, "r2", failed, 1, "r2", ready), want: "delete web-0"},
		{name: "a rolling update replaces the highest ordinal first", set: newSet(3),
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r1", ready), want: "delete web-2", deletedForUpdate: 1},
		{name: "a rolling update goes on downwards once the updated pod is available", set: newSet(3),
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r2", ready), want: "delete web-1", deletedForUpdate: 1},
		{name: "a rolling update waits for an updated pod that is not yet available", set: minReady(newSet(3), 10),
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r2", justReady), want: ""},
		{name: "a partition keeps the ordinals below it at the current revision", set: partitioned(newSet(3), 2),
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r2", ready), want: ""},
		{name: "a partition lets the ordinals from it update", set: partitioned(newSet(3), 1),
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r2", ready), want: "delete web-1", deletedForUpdate: 1},
		{name: "OnDelete never replaces pods itself", set: onDelete(newSet(3)),
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r1", ready), want: ""},
		{name: "maxUnavailable is ignored without its feature gate", set: withMaxUnavailable(newSet(4), "2"),
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r1", ready, 3, "r1", ready), want: "delete web-3", deletedForUpdate: 1},
		{name: "with the feature gate maxUnavailable pods are replaced at once, highest first", set: withMaxUnavailable(newSet(4), "2"), gate: true,
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r1", ready, 3, "r1", ready), want: "delete web-3; delete web-2", deletedForUpdate: 2},
		{name: "with the feature gate pods already unavailable use up the budget", set: parallel(withMaxUnavailable(newSet(4), "50%")), gate: true,
			pods: at(0, "r1", notReady, 1, "r1", ready, 2, "r1", ready, 3, "r1", ready), want: "delete web-3", deletedForUpdate: 1},
		{name: "with the feature gate the partition still holds", set: partitioned(withMaxUnavailable(newSet(4), "4"), 3), gate: true,
			pods: at(0, "r1", ready, 1, "r1", ready, 2, "r1", ready, 3, "r1", ready), want: "delete web-3", deletedForUpdate: 1},
		{name: "a pod that lost its identity label is updated", set: newSet(1),
			pods: func(set *appsv1.StatefulSet) []*corev1.Pod {
				p := pod(set, 0, "r2", ready)
				delete(p.Labels, appsv1.StatefulSetPodNameLabel)
				return []*corev1.Pod{p}
			}, want: "update web-0"},
		{name: "a pending pod gets its missing claims", set: withClaimTemplate(newSet(2), "www"), pods: at(0, "r2", pending), want: "create claims web-0"},
		{name: "a claim an earlier pod of the name still owns holds the creation back", set: scaledDelete(withClaimTemplate(newSet(1), "www")),
			pods: at(), claims: []*corev1.PersistentVolumeClaim{staleClaim}, want: ""},
		{name: "the claims of a pod scaled away are handed to it under whenScaled Delete", set: scaledDelete(withClaimTemplate(newSet(1), "www")),
			pods: at(0, "r2", ready, 1, "r2", ready), claims: []*corev1.PersistentVolumeClaim{claimOf("www-web-0"), claimOf("www-web-1")},
			want: "fix claims web-1 | delete web-1"},
		{name: "a set being deleted touches nothing", set: deleting(newSet(3)), pods: at(0, "r1", ready), want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			claims := map[string]*corev1.PersistentVolumeClaim{}
			for _, cl := range c.claims {
				claims[cl.Name] = cl
			}
			pods := c.pods(c.set)
			// Claims owned by the set's own pods name them by UID.
			for _, cl := range claims {
				for i := range cl.OwnerReferences {
					if cl.OwnerReferences[i].UID == "" {
						cl.OwnerReferences[i].UID = types.UID(cl.OwnerReferences[i].Name + "-uid")
					}
				}
			}
			p := decide(input{set: c.set, currentSet: c.set, updateSet: c.set, currentRevision: "r1", updateRevision: "r2", pods: pods,
				claims: func(name string) *corev1.PersistentVolumeClaim { return claims[name] }, now: now, maxUnavailable: c.gate})
			if got := describe(p); got != c.want {
				t.Errorf("plan %q, want %q (waiting for %q)", got, c.want, p.waiting)
			}
			if p.updateDeletions != c.deletedForUpdate {
				t.Errorf("%d deletions for the update, want %d", p.updateDeletions, c.deletedForUpdate)
			}
		})
	}
}

func TestNewPodsTakeTheRevisionTheirOrdinalShouldHave(t *testing.T) {
	set := parallel(partitioned(newSet(3), 2))
	cur := set.DeepCopy()
	cur.Spec.Template.Spec.Containers[0].Image = "nginx:old"
	p := decide(input{set: set, currentSet: cur, updateSet: set, currentRevision: "r1", updateRevision: "r2", now: now,
		claims: func(string) *corev1.PersistentVolumeClaim { return nil }})
	if len(p.phases) != 1 || len(p.phases[0]) != 3 {
		t.Fatalf("plan %s", describe(p))
	}
	for _, s := range p.phases[0] {
		n := ordinalOf(s.pod)
		wantRev, wantImage := "r2", "nginx:1"
		if n < 2 {
			wantRev, wantImage = "r1", "nginx:old"
		}
		if revisionOf(s.pod) != wantRev || s.pod.Spec.Containers[0].Image != wantImage {
			t.Errorf("%s: revision %s image %s, want %s %s", s.pod.Name, revisionOf(s.pod), s.pod.Spec.Containers[0].Image, wantRev, wantImage)
		}
	}
}

func TestMaxUnavailableRoundsDownButNeverBelowOne(t *testing.T) {
	for _, c := range []struct {
		v    string
		n    int
		want int
	}{{"", 5, 1}, {"2", 5, 2}, {"50%", 5, 2}, {"10%", 5, 1}, {"100%", 5, 5}} {
		set := newSet(int32(c.n))
		if c.v != "" {
			withMaxUnavailable(set, c.v)
		}
		if got := maxUnavailable(set, c.n); got != c.want {
			t.Errorf("maxUnavailable %q of %d = %d, want %d", c.v, c.n, got, c.want)
		}
	}
}
