package statefulset

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/minik8s/minik8s/pkg/controller/history"
)

// templatePatch is what a revision stores: a strategic merge patch that puts
// the set's pod template back, {"spec":{"template":{...,"$patch":"replace"}}},
// encoded with sorted keys as upstream (and kubectl, which compares it) does.
func templatePatch(set *appsv1.StatefulSet) ([]byte, error) {
	raw, err := json.Marshal(set.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("encode the template of %s/%s: %w", set.Namespace, set.Name, err)
	}
	var template map[string]interface{}
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]interface{}{"spec": map[string]interface{}{"template": template}})
}

// newRevision is the revision recording set's current template, numbered n,
// carrying the set's annotations (kubectl shows kubernetes.io/change-cause).
func newRevision(set *appsv1.StatefulSet, n int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	patch, err := templatePatch(set)
	if err != nil {
		return nil, err
	}
	rev := history.New(set, kind, set.Spec.Template.Labels, patch, n, collisionCount)
	rev.Annotations = make(map[string]string, len(set.Annotations))
	for k, v := range set.Annotations {
		rev.Annotations[k] = v
	}
	return rev, nil
}

// applyRevision is set with the template rev recorded.
func applyRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision) (*appsv1.StatefulSet, error) {
	cur, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	patched, err := strategicpatch.StrategicMergePatch(cur, rev.Data.Raw, &appsv1.StatefulSet{})
	if err != nil {
		return nil, fmt.Errorf("apply revision %s to %s/%s: %w", rev.Name, set.Namespace, set.Name, err)
	}
	out := &appsv1.StatefulSet{}
	if err := json.Unmarshal(patched, out); err != nil {
		return nil, fmt.Errorf("apply revision %s to %s/%s: %w", rev.Name, set.Namespace, set.Name, err)
	}
	return out, nil
}

// revisionChoice is how the update revision is found for the set's template.
type revisionChoice int

const (
	// useLatest: the newest revision already records the template.
	useLatest revisionChoice = iota
	// renumber: an older revision records it (a rollback): it becomes the newest.
	renumber
	// create: no revision records it: a new one is made.
	create
)

// chooseUpdateRevision decides, from the revisions sorted oldest first and the
// proposed revision for the set's template, which revision the set updates
// to: the match to reuse (for useLatest and renumber) and what to do.
func chooseUpdateRevision(revisions []*appsv1.ControllerRevision, proposed *appsv1.ControllerRevision) (revisionChoice, *appsv1.ControllerRevision) {
	equal := history.FindEqual(revisions, proposed)
	switch {
	case len(equal) > 0 && history.Equal(revisions[len(revisions)-1], equal[len(equal)-1]):
		return useLatest, revisions[len(revisions)-1]
	case len(equal) > 0:
		return renumber, equal[len(equal)-1]
	}
	return create, nil
}

// findRevision is the revision named name, nil if there is none.
func findRevision(revisions []*appsv1.ControllerRevision, name string) *appsv1.ControllerRevision {
	for _, r := range revisions {
		if r.Name == name {
			return r
		}
	}
	return nil
}
