package namespace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// conditionTypes are the deletion conditions this controller keeps, in upstream's order.
var conditionTypes = []corev1.NamespaceConditionType{
	corev1.NamespaceDeletionDiscoveryFailure,
	corev1.NamespaceDeletionGVParsingFailure,
	corev1.NamespaceDeletionContentFailure,
	corev1.NamespaceContentRemaining,
	corev1.NamespaceFinalizersRemaining,
}

// healthy is the False condition (reason and message) each type reads when all is well.
var healthy = map[corev1.NamespaceConditionType][2]string{
	corev1.NamespaceDeletionDiscoveryFailure: {"ResourcesDiscovered", "All resources successfully discovered"},
	corev1.NamespaceDeletionGVParsingFailure: {"ParsedGroupVersions", "All legacy kube types successfully parsed"},
	corev1.NamespaceDeletionContentFailure:   {"ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
	corev1.NamespaceContentRemaining:         {"ContentRemoved", "All content successfully removed"},
	corev1.NamespaceFinalizersRemaining:      {"ContentHasNoFinalizers", "All content-preserving finalizers finished"},
}

// pass is what one round of content deletion found.
type pass struct {
	discoveryErr error
	parseErr     error
	deleteErrs   []error
	remaining    map[schema.GroupVersionResource]int
	finalizers   map[string]int
	// estimate is how many seconds until the remaining content should be gone.
	estimate int64
}

// problems returns the True conditions a pass calls for; the other types are healthy.
func (p *pass) problems() map[corev1.NamespaceConditionType]corev1.NamespaceCondition {
	out := map[corev1.NamespaceConditionType]corev1.NamespaceCondition{}
	bad := func(t corev1.NamespaceConditionType, reason, msg string) {
		out[t] = corev1.NamespaceCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg}
	}
	if p.discoveryErr != nil {
		bad(corev1.NamespaceDeletionDiscoveryFailure, "DiscoveryFailed", p.discoveryErr.Error())
	}
	if p.parseErr != nil {
		bad(corev1.NamespaceDeletionGVParsingFailure, "GroupVersionParsingFailed", p.parseErr.Error())
	}
	if len(p.deleteErrs) > 0 {
		msgs := make([]string, 0, len(p.deleteErrs))
		for _, e := range p.deleteErrs {
			msgs = append(msgs, e.Error())
		}
		sort.Strings(msgs)
		bad(corev1.NamespaceDeletionContentFailure, "ContentDeletionFailed",
			fmt.Sprintf("Failed to delete all resource types, %d remaining: %v", len(msgs), strings.Join(msgs, ", ")))
	}
	var left []string
	for gvr, n := range p.remaining {
		if n > 0 {
			left = append(left, fmt.Sprintf("%s.%s has %d resource instances", gvr.Resource, gvr.Group, n))
		}
	}
	if len(left) > 0 {
		sort.Strings(left)
		bad(corev1.NamespaceContentRemaining, "SomeResourcesRemain", "Some resources are remaining: "+strings.Join(left, ", "))
	}
	var fins []string
	for f, n := range p.finalizers {
		if n > 0 {
			fins = append(fins, fmt.Sprintf("%s in %d resource instances", f, n))
		}
	}
	if len(fins) > 0 {
		sort.Strings(fins)
		bad(corev1.NamespaceFinalizersRemaining, "SomeFinalizersRemain",
			"Some content in the namespace has finalizers remaining: "+strings.Join(fins, ", "))
	}
	return out
}

// mergeConditions sets every deletion condition type on status from the pass's
// problems: existing conditions are updated in place (their transition time moves
// only when their status flips), missing ones appended. It reports whether
// anything changed.
func mergeConditions(status *corev1.NamespaceStatus, problems map[corev1.NamespaceConditionType]corev1.NamespaceCondition, now metav1.Time) bool {
	changed := false
	for _, t := range conditionTypes {
		want, bad := problems[t]
		if !bad {
			ok := healthy[t]
			want = corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, Reason: ok[0], Message: ok[1]}
		}
		old := findCondition(status.Conditions, t)
		if old == nil {
			want.LastTransitionTime = now
			status.Conditions = append(status.Conditions, want)
			changed = true
			continue
		}
		if old.Status == want.Status && old.Reason == want.Reason && old.Message == want.Message {
			continue
		}
		if old.Status != want.Status {
			old.LastTransitionTime = now
		}
		old.Status, old.Reason, old.Message = want.Status, want.Reason, want.Message
		changed = true
	}
	return changed
}

func findCondition(list []corev1.NamespaceCondition, t corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range list {
		if list[i].Type == t {
			return &list[i]
		}
	}
	return nil
}
