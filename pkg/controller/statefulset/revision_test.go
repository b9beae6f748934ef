package statefulset

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/minik8s/minik8s/pkg/controller/history"
)

func TestTheRevisionPatchReplacesTheWholeTemplate(t *testing.T) {
	set := newSet(1)
	patch, err := templatePatch(set)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1","name":"c","resources":{}}]}}}}`
	if string(patch) != want {
		t.Errorf("patch\n %s\nwant\n %s", patch, want)
	}
}

func TestApplyRevisionRestoresTheRecordedTemplate(t *testing.T) {
	old := newSet(1)
	old.Spec.Template.Spec.Containers[0].Env = nil
	rev, err := newRevision(old, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	cur := newSet(3)
	cur.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	cur.Spec.Template.Labels["extra"] = "yes"
	got, err := applyRevision(cur, rev)
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Template.Spec.Containers[0].Image != "nginx:1" || got.Spec.Template.Labels["extra"] != "" || *got.Spec.Replicas != 3 {
		t.Errorf("restored template %+v replicas %d", got.Spec.Template, *got.Spec.Replicas)
	}
	if cur.Spec.Template.Spec.Containers[0].Image != "nginx:2" {
		t.Error("the set was changed")
	}
}

func TestNewRevisionIsNamedByTheHashOfItsPatchAndKeepsTheSetsAnnotations(t *testing.T) {
	set := newSet(1)
	set.Annotations = map[string]string{"kubernetes.io/change-cause": "kubectl set image"}
	rev, err := newRevision(set, 4, ptr(int32(0)))
	if err != nil {
		t.Fatal(err)
	}
	patch, _ := templatePatch(set)
	hash := history.HashData(patch, ptr(int32(0)))
	if rev.Name != "web-"+hash || rev.Revision != 4 || rev.Annotations["kubernetes.io/change-cause"] != "kubectl set image" ||
		rev.Labels["app"] != "web" || rev.Labels[history.HashLabel] != hash || !strings.HasPrefix(string(rev.Data.Raw), `{"spec":{"template":`) {
		t.Errorf("revision %+v", rev.ObjectMeta)
	}
}

func TestChooseUpdateRevision(t *testing.T) {
	mk := func(name string, n int64, raw string) *appsv1.ControllerRevision {
		r := history.New(newSet(1), kind, nil, []byte(raw), n, nil)
		r.Name = name
		return r
	}
	a, b := mk("a", 1, "A"), mk("b", 2, "B")
	cases := []struct {
		name      string
		revisions []*appsv1.ControllerRevision
		proposed  string
		want      revisionChoice
		match     string
	}{
		{"a first template makes the first revision", nil, "A", create, ""},
		{"an unchanged template keeps the newest revision", []*appsv1.ControllerRevision{a, b}, "B", useLatest, "b"},
		{"a new template makes a new revision", []*appsv1.ControllerRevision{a, b}, "C", create, ""},
		{"an old template (a rollback) renumbers its revision", []*appsv1.ControllerRevision{a, b}, "A", renumber, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			choice, match := chooseUpdateRevision(c.revisions, mk("proposed", 3, c.proposed))
			name := ""
			if match != nil {
				name = match.Name
			}
			if choice != c.want || name != c.match {
				t.Errorf("choice %d match %q, want %d %q", choice, name, c.want, c.match)
			}
		})
	}
}
