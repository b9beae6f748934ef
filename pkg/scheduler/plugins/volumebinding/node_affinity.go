package volumebinding

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// nodeMatcher is a volume's required node affinity, checked against node labels
// without allocating: Filter runs it for every node and candidate volume. It
// follows the semantics of the component-helpers node selector: terms are ORed,
// a term's requirements ANDed, an empty or malformed term matches no node.
// matchFields may name metadata.name.
type nodeMatcher struct {
	terms []matchTerm
}

type matchTerm struct {
	exprs  []corev1.NodeSelectorRequirement
	fields []corev1.NodeSelectorRequirement
	valid  bool
}

// newNodeMatcher parses a volume's node affinity; nil matches every node.
func newNodeMatcher(pv *corev1.PersistentVolume) *nodeMatcher {
	na := pv.Spec.NodeAffinity
	if na == nil || na.Required == nil {
		return nil
	}
	m := &nodeMatcher{}
	for _, t := range na.Required.NodeSelectorTerms {
		mt := matchTerm{exprs: t.MatchExpressions, fields: t.MatchFields, valid: len(t.MatchExpressions)+len(t.MatchFields) > 0}
		for _, r := range t.MatchExpressions {
			mt.valid = mt.valid && validLabelRequirement(r)
		}
		for _, r := range t.MatchFields {
			mt.valid = mt.valid && r.Key == "metadata.name" && (r.Operator == corev1.NodeSelectorOpIn || r.Operator == corev1.NodeSelectorOpNotIn) && len(r.Values) == 1
		}
		m.terms = append(m.terms, mt)
	}
	return m
}

func validLabelRequirement(r corev1.NodeSelectorRequirement) bool {
	switch r.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		return len(r.Values) > 0
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		return len(r.Values) == 0
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(r.Values) != 1 {
			return false
		}
		_, err := strconv.ParseInt(r.Values[0], 10, 64)
		return err == nil
	}
	return false
}

// matches says whether the node satisfies one of the terms.
func (m *nodeMatcher) matches(node *corev1.Node) bool {
	if m == nil {
		return true
	}
	for i := range m.terms {
		if m.terms[i].matches(node) {
			return true
		}
	}
	return false
}

func (t *matchTerm) matches(node *corev1.Node) bool {
	if !t.valid {
		return false
	}
	for _, r := range t.exprs {
		v, has := node.Labels[r.Key]
		if !labelMatches(r, v, has) {
			return false
		}
	}
	for _, r := range t.fields {
		if (node.Name == r.Values[0]) != (r.Operator == corev1.NodeSelectorOpIn) {
			return false
		}
	}
	return true
}

func labelMatches(r corev1.NodeSelectorRequirement, v string, has bool) bool {
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return has && contains(r.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !has || !contains(r.Values, v)
	case corev1.NodeSelectorOpExists:
		return has
	case corev1.NodeSelectorOpDoesNotExist:
		return !has
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !has {
			return false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		want, _ := strconv.ParseInt(r.Values[0], 10, 64)
		if r.Operator == corev1.NodeSelectorOpGt {
			return n > want
		}
		return n < want
	}
	return false
}
