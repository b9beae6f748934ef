package deployment

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestFenceposts(t *testing.T) {
	cases := []struct {
		name                   string
		surge, unavailable     string
		desired                int32
		wantSurge, wantUnavail int32
	}{
		{"percentages: surge rounds up, unavailable rounds down", "25%", "25%", 3, 1, 0},
		{"percentages of ten", "25%", "25%", 10, 3, 2},
		{"absolute numbers", "2", "1", 10, 2, 1},
		{"both zero would stall: unavailable becomes one", "0", "0", 5, 0, 1},
		{"0% and 0% also", "0%", "0%", 5, 0, 1},
		{"unset fields count as zero", "", "", 5, 0, 1},
		{"100% unavailable", "0", "100%", 4, 0, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s, u *intstr.IntOrString
			if c.surge != "" {
				v := intstr.Parse(c.surge)
				s = &v
			}
			if c.unavailable != "" {
				v := intstr.Parse(c.unavailable)
				u = &v
			}
			gs, gu, err := fenceposts(s, u, c.desired)
			if err != nil || gs != c.wantSurge || gu != c.wantUnavail {
				t.Errorf("got %d, %d, %v", gs, gu, err)
			}
		})
	}
}

func TestMaxUnavailableNeverExceedsReplicas(t *testing.T) {
	d := deploy("web", 2, "0", "5")
	if got := maxUnavailable(d); got != 2 {
		t.Errorf("got %d", got)
	}
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if maxUnavailable(d) != 0 || maxSurge(d) != 0 {
		t.Error("Recreate has surge or unavailable")
	}
}

func TestNewRSReplicas(t *testing.T) {
	cases := []struct {
		name     string
		d        *appsv1.Deployment
		newSize  int32
		oldSizes []int32
		want     int32
	}{
		{"a rollout starts with maxSurge new pods", deploy("web", 10, "3", "0"), 0, []int32{10}, 3},
		{"at the surge limit the new set waits", deploy("web", 10, "3", "0"), 3, []int32{10}, 3},
		{"as old pods go the new set takes their place", deploy("web", 10, "3", "0"), 3, []int32{7}, 6},
		{"the new set never passes replicas", deploy("web", 10, "30", "0"), 0, []int32{10}, 10},
		{"a percentage surge rounds up", deploy("web", 3, "25%", "25%"), 0, []int32{3}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			newRS := set("new", c.newSize, 0, 0)
			all := []*appsv1.ReplicaSet{newRS}
			for _, n := range c.oldSizes {
				all = append(all, set("old", n, n, time.Hour))
			}
			got, err := newRSReplicas(c.d, all, newRS)
			if err != nil || got != c.want {
				t.Errorf("got %d, %v", got, err)
			}
		})
	}
	d := deploy("web", 4, "", "")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if got, _ := newRSReplicas(d, nil, set("new", 0, 0, 0)); got != 4 {
		t.Errorf("Recreate: got %d", got)
	}
}

func TestPlanScale(t *testing.T) {
	maxAnn := func(rs *appsv1.ReplicaSet, v string) *appsv1.ReplicaSet {
		return withAnnotations(rs, MaxReplicasAnnotation, v, DesiredReplicasAnnotation, v)
	}
	cases := []struct {
		name  string
		d     *appsv1.Deployment
		newRS *appsv1.ReplicaSet
		old   []*appsv1.ReplicaSet
		want  string
	}{
		{"one active set takes the new size", deploy("web", 5, "0", "1"), set("new", 3, 3, 0), []*appsv1.ReplicaSet{set("old", 0, 0, time.Hour)}, "new=5 "},
		{"one active set already at size is left alone", deploy("web", 3, "0", "1"), set("new", 3, 3, 0), nil, ""},
		{"with no active set the newest takes the size", deploy("web", 2, "0", "1"), nil, []*appsv1.ReplicaSet{set("older", 0, 0, 2*time.Hour), set("newer", 0, 0, time.Hour)}, "newer=2 "},
		{"growing 5 to 10 mid-rollout shares the growth in proportion", deploy("web", 10, "0", "1"),
			maxAnn(set("new", 2, 0, 0), "5"), []*appsv1.ReplicaSet{maxAnn(set("old", 3, 3, time.Hour), "5")}, "old=6 new=4 "},
		{"shrinking 5 to 3 mid-rollout shares the shrink in proportion", deploy("web", 3, "0", "1"),
			maxAnn(set("new", 2, 0, 0), "5"), []*appsv1.ReplicaSet{maxAnn(set("old", 3, 3, time.Hour), "5")}, "old=2 new=1 "},
		{"scaling to zero empties every set", deploy("web", 0, "0", "1"),
			maxAnn(set("new", 2, 0, 0), "5"), []*appsv1.ReplicaSet{maxAnn(set("old", 3, 3, time.Hour), "5")}, "old=0 new=0 "},
		{"a saturated new set scales the old ones to zero", deploy("web", 3, "0", "1"),
			withAnnotations(set("new", 3, 3, 0), DesiredReplicasAnnotation, "3"), []*appsv1.ReplicaSet{set("old", 1, 1, time.Hour)}, "old=0 "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := sizes(planScale(c.d, c.newRS, c.old)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestPlanOldScaleDown(t *testing.T) {
	cases := []struct {
		name               string
		d                  *appsv1.Deployment
		newRS              *appsv1.ReplicaSet
		old                []*appsv1.ReplicaSet
		unhealthy, healthy string
	}{
		{"nothing goes while the new pods are not available and none may be lost", deploy("web", 3, "1", "0"),
			set("new", 1, 0, 0), []*appsv1.ReplicaSet{set("old", 3, 3, time.Hour)}, "", ""},
		{"one available new pod lets one old pod go", deploy("web", 3, "1", "0"),
			set("new", 1, 1, 0), []*appsv1.ReplicaSet{set("old", 3, 3, time.Hour)}, "", "old=2 "},
		{"maxUnavailable lets old pods go before new ones are ready", deploy("web", 4, "0", "2"),
			set("new", 0, 0, 0), []*appsv1.ReplicaSet{set("old", 4, 4, time.Hour)}, "", "old=2 "},
		{"unavailable old pods go first, oldest set first, within what may be lost", deploy("web", 4, "0", "1"),
			set("new", 0, 0, 0), []*appsv1.ReplicaSet{set("b", 2, 2, time.Hour), set("a", 2, 0, 2*time.Hour)}, "a=1 ", ""},
		{"unavailable pods go before available ones are counted", deploy("web", 4, "0", "2"),
			set("new", 0, 0, 0), []*appsv1.ReplicaSet{set("b", 3, 3, time.Hour), set("a", 1, 0, 2*time.Hour)}, "a=0 ", "b=2 "},
		{"sets already at zero are skipped", deploy("web", 2, "1", "1"),
			set("new", 2, 2, 0), []*appsv1.ReplicaSet{set("gone", 0, 0, 2*time.Hour), set("old", 1, 1, time.Hour)}, "", "old=0 "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := append(append([]*appsv1.ReplicaSet(nil), c.old...), c.newRS)
			u, h := planOldScaleDown(c.d, all, active(c.old), c.newRS)
			if sizes(u) != c.unhealthy || sizes(h) != c.healthy {
				t.Errorf("unhealthy %q healthy %q; want %q and %q", sizes(u), sizes(h), c.unhealthy, c.healthy)
			}
		})
	}
}

func TestToCleanUpKeepsRevisionHistoryLimit(t *testing.T) {
	d := deploy("web", 1, "", "")
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	rev := func(rs *appsv1.ReplicaSet, r string) *appsv1.ReplicaSet {
		return withAnnotations(rs, RevisionAnnotation, r)
	}
	busy := rev(set("busy", 1, 1, 4*time.Hour), "1")
	old := []*appsv1.ReplicaSet{rev(set("r3", 0, 0, time.Hour), "3"), rev(set("r2", 0, 0, 2*time.Hour), "2"), busy}
	got := toCleanUp(d, old)
	// Two must go (three kept, limit one): revisions 1 and 2, but 1 still has pods.
	if len(got) != 1 || got[0].Name != "r2" {
		t.Errorf("got %v", got)
	}
	d.Spec.RevisionHistoryLimit = nil
	if got := toCleanUp(d, old); got != nil {
		t.Errorf("without a limit: %v", got)
	}
}

func TestIsScalingEventAndSaturation(t *testing.T) {
	d := deploy("web", 5, "1", "0")
	sized := withAnnotations(set("a", 3, 3, 0), DesiredReplicasAnnotation, "3")
	if !isScalingEvent(d, []*appsv1.ReplicaSet{sized}) {
		t.Error("a set sized for 3 of a deployment of 5 is not a scaling event")
	}
	if isScalingEvent(d, []*appsv1.ReplicaSet{withAnnotations(set("b", 3, 3, 0), DesiredReplicasAnnotation, "5")}) {
		t.Error("a set sized for 5 is a scaling event")
	}
	full := withAnnotations(set("n", 5, 5, 0), DesiredReplicasAnnotation, "5")
	if !isSaturated(d, full) || isSaturated(d, set("n", 5, 5, 0)) || isSaturated(d, nil) {
		t.Error("saturation misjudged")
	}
}

func TestActiveOrLatest(t *testing.T) {
	older, newer := set("older", 0, 0, 2*time.Hour), set("newer", 0, 0, time.Hour)
	if got := activeOrLatest(nil, []*appsv1.ReplicaSet{older, newer}); got != newer {
		t.Errorf("got %v", got.Name)
	}
	busy := set("busy", 2, 2, 3*time.Hour)
	if got := activeOrLatest(set("new", 0, 0, 0), []*appsv1.ReplicaSet{busy}); got != busy {
		t.Errorf("got %v", got.Name)
	}
	if got := activeOrLatest(set("new", 1, 0, 0), []*appsv1.ReplicaSet{busy}); got != nil {
		t.Errorf("two active sets gave %v", got.Name)
	}
}
