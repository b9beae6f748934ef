package deployment

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func TestAppendRevisionHistory(t *testing.T) {
	cases := []struct {
		name, history, rev string
		limit              int
		want               string
		ok                 bool
	}{
		{"the first entry", "", "1", 2000, "1", true},
		{"later entries are appended", "1,3", "4", 2000, "1,3,4", true},
		{"the oldest go to stay within the limit", "1,2,3", "4", 6, "2,3,4", true},
		{"a revision too long for the limit is dropped", "1", "123456", 3, "1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := appendRevisionHistory(c.history, c.rev, c.limit)
			if got != c.want || ok != c.ok {
				t.Errorf("got %q, %v", got, ok)
			}
		})
	}
}

func TestSetNewReplicaSetAnnotations(t *testing.T) {
	d := deploy("web", 3, "1", "0")
	d.Annotations = map[string]string{ChangeCauseAnnotation: "kubectl set image", "kubectl.kubernetes.io/last-applied-configuration": "{}",
		RevisionAnnotation: "7", "team": "a"}
	t.Run("a set about to be created gets the revision, the copied annotations and the sizes", func(t *testing.T) {
		rs := &appsv1.ReplicaSet{}
		if !setNewReplicaSetAnnotations(d, rs, "3", false) {
			t.Fatal("no change")
		}
		want := map[string]string{RevisionAnnotation: "3", ChangeCauseAnnotation: "kubectl set image", "team": "a",
			DesiredReplicasAnnotation: "3", MaxReplicasAnnotation: "4"}
		if len(rs.Annotations) != len(want) {
			t.Errorf("got %v", rs.Annotations)
		}
		for k, v := range want {
			if rs.Annotations[k] != v {
				t.Errorf("%s = %q, want %q", k, rs.Annotations[k], v)
			}
		}
	})
	t.Run("a set rolled back to gets the next revision and remembers its earlier ones", func(t *testing.T) {
		rs := withAnnotations(&appsv1.ReplicaSet{}, RevisionAnnotation, "2", RevisionHistoryAnnotation, "1")
		setNewReplicaSetAnnotations(d, rs, "5", true)
		if rs.Annotations[RevisionAnnotation] != "5" || rs.Annotations[RevisionHistoryAnnotation] != "1,2" {
			t.Errorf("got %v", rs.Annotations)
		}
		if _, ok := rs.Annotations[DesiredReplicasAnnotation]; ok {
			t.Error("an existing set got its sizes here; scaling sets them")
		}
	})
	t.Run("a set already at the revision with the annotations is unchanged", func(t *testing.T) {
		rs := withAnnotations(&appsv1.ReplicaSet{}, RevisionAnnotation, "5", ChangeCauseAnnotation, "kubectl set image", "team", "a")
		if setNewReplicaSetAnnotations(d, rs, "5", true) {
			t.Errorf("changed: %v", rs.Annotations)
		}
	})
	t.Run("a malformed revision is left alone", func(t *testing.T) {
		rs := withAnnotations(&appsv1.ReplicaSet{}, RevisionAnnotation, "x", ChangeCauseAnnotation, "kubectl set image", "team", "a")
		if setNewReplicaSetAnnotations(d, rs, "5", true) || rs.Annotations[RevisionAnnotation] != "x" {
			t.Errorf("got %v", rs.Annotations)
		}
	})
}

func TestMaxRevisionSkipsMalformed(t *testing.T) {
	sets := []*appsv1.ReplicaSet{withAnnotations(set("a", 0, 0, 0), RevisionAnnotation, "4"),
		withAnnotations(set("b", 0, 0, 0), RevisionAnnotation, "nine"), set("c", 0, 0, 0)}
	if got := maxRevision(sets); got != 4 {
		t.Errorf("got %d", got)
	}
}

func TestTemplateHashAndNames(t *testing.T) {
	d := deploy("web", 1, "", "")
	h := templateHash(&d.Spec.Template, nil)
	if h != templateHash(d.Spec.Template.DeepCopy(), nil) {
		t.Error("the hash is not stable")
	}
	if h == templateHash(&d.Spec.Template, ptr(int32(1))) {
		t.Error("a collision count does not change the hash")
	}
	d2 := d.DeepCopy()
	d2.Spec.Template.Spec.Containers[0].Image = "busybox:1.36"
	if h == templateHash(&d2.Spec.Template, nil) {
		t.Error("another template hashes the same")
	}
	if strings.ContainsAny(h, "aeiou") {
		t.Errorf("hash %q has vowels; upstream's safe encoding has none", h)
	}
	if got := replicaSetName("web", h); got != "web-"+h {
		t.Errorf("name %q", got)
	}
	if got := replicaSetName(strings.Repeat("x", 260), "abc"); len(got) != 253 || !strings.HasSuffix(got, "-abc") {
		t.Errorf("long name: %d chars", len(got))
	}
}

func TestEqualIgnoreHash(t *testing.T) {
	d := deploy("web", 1, "", "")
	withHash := d.Spec.Template.DeepCopy()
	withHash.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "abc"
	if !equalIgnoreHash(&d.Spec.Template, withHash) {
		t.Error("the hash label made templates differ")
	}
	if _, ok := d.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		t.Error("equalIgnoreHash changed its argument")
	}
}
