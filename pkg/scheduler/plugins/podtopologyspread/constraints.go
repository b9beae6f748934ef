package podtopologyspread

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// constraint is a topology spread constraint with its selector parsed and its
// defaults filled in.
type constraint struct {
	maxSkew     int32
	topologyKey string
	selector    labels.Selector
	// minDomains defaults to 1.
	minDomains int32
	// nodeAffinityPolicy defaults to Honor, nodeTaintsPolicy to Ignore.
	nodeAffinityPolicy corev1.NodeInclusionPolicy
	nodeTaintsPolicy   corev1.NodeInclusionPolicy
}

// parseConstraints keeps the constraints with the given action. matchLabelKeys
// add the pod's values of those keys to the selector (the API server may have
// merged them already; adding the same requirement again changes nothing).
func parseConstraints(cs []corev1.TopologySpreadConstraint, podLabels map[string]string, action corev1.UnsatisfiableConstraintAction) ([]constraint, error) {
	var out []constraint
	for i := range cs {
		c := &cs[i]
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, err
		}
		if len(c.MatchLabelKeys) > 0 {
			match := labels.Set{}
			for _, k := range c.MatchLabelKeys {
				if v, ok := podLabels[k]; ok {
					match[k] = v
				}
			}
			if len(match) > 0 {
				sel = mergeSelector(match, sel)
			}
		}
		out = append(out, constraint{
			maxSkew:            c.MaxSkew,
			topologyKey:        c.TopologyKey,
			selector:           sel,
			minDomains:         ptr.Deref(c.MinDomains, 1),
			nodeAffinityPolicy: ptr.Deref(c.NodeAffinityPolicy, corev1.NodeInclusionPolicyHonor),
			nodeTaintsPolicy:   ptr.Deref(c.NodeTaintsPolicy, corev1.NodeInclusionPolicyIgnore),
		})
	}
	return out, nil
}

func mergeSelector(match labels.Set, sel labels.Selector) labels.Selector {
	reqs, ok := sel.Requirements()
	if !ok {
		return sel
	}
	return labels.SelectorFromSet(match).Add(reqs...)
}

// constraintsFor are the pod's constraints with the action, or, when it has
// none of its own, the default constraints with the action, selecting the pod's
// siblings (none if it belongs to no Service or controller).
func (pl *PodTopologySpread) constraintsFor(pod *corev1.Pod, action corev1.UnsatisfiableConstraintAction) ([]constraint, error) {
	kind := "hard"
	if action == corev1.ScheduleAnyway {
		kind = "soft"
	}
	if len(pod.Spec.TopologySpreadConstraints) > 0 {
		cs, err := parseConstraints(pod.Spec.TopologySpreadConstraints, pod.Labels, action)
		if err != nil {
			return nil, fmt.Errorf("obtaining pod's %s topology spread constraints: %w", kind, err)
		}
		return cs, nil
	}
	cs, err := parseConstraints(pl.defaultConstraints, pod.Labels, action)
	if err != nil {
		return nil, fmt.Errorf("setting default %s topology spread constraints: %w", kind, err)
	}
	if len(cs) == 0 || pl.workloads == nil {
		return nil, nil
	}
	sel := pl.workloads.defaultSelector(pod)
	if sel.Empty() {
		return nil, nil
	}
	for i := range cs {
		cs[i].selector = sel
	}
	return cs, nil
}

// podFilter is what the node inclusion policies need of the incoming pod.
type podFilter struct {
	pod      *corev1.Pod
	required nodeaffinity.RequiredNodeAffinity
}

func newPodFilter(pod *corev1.Pod) podFilter {
	return podFilter{pod: pod, required: nodeaffinity.GetRequiredNodeAffinity(pod)}
}

func doNotScheduleTaints(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

// includes says whether the node counts for the constraint under its node
// inclusion policies: with Honor, the pod's node affinity and selector must
// match it, and the pod must tolerate its NoSchedule and NoExecute taints.
func (c *constraint) includes(f *podFilter, node *corev1.Node) bool {
	if c.nodeAffinityPolicy == corev1.NodeInclusionPolicyHonor {
		if ok, _ := f.required.Match(node); !ok {
			return false
		}
	}
	if c.nodeTaintsPolicy == corev1.NodeInclusionPolicyHonor && len(node.Spec.Taints) > 0 {
		if _, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, f.pod.Spec.Tolerations, doNotScheduleTaints, false); untolerated {
			return false
		}
	}
	return true
}

// hasAllKeys says whether the node has every constraint's topology key.
func hasAllKeys(nodeLabels map[string]string, cs []constraint) bool {
	for i := range cs {
		if _, ok := nodeLabels[cs[i].topologyKey]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the pods in the namespace that the selector selects and
// that are not being deleted. An empty selector selects none, as upstream's.
func countMatching(pods []*fw.PodInfo, sel labels.Selector, namespace string) int32 {
	if sel.Empty() {
		return 0
	}
	var n int32
	for _, pi := range pods {
		p := pi.Pod
		if p.DeletionTimestamp != nil || p.Namespace != namespace {
			continue
		}
		if sel.Matches(labels.Set(p.Labels)) {
			n++
		}
	}
	return n
}

// countKey names what counting for constraint i asks of a node, for the counts
// kept between cycles: the namespace and selector, the keys every counted node
// must have (all constraints' when required), and what the node inclusion
// policies look at of the pod.
func countKey(pod *corev1.Pod, cs []constraint, i int, requireAllKeys bool) string {
	c := &cs[i]
	var b strings.Builder
	b.WriteString(pod.Namespace)
	b.WriteByte('|')
	if _, ok := c.selector.Requirements(); !ok {
		b.WriteString("<none>")
	} else {
		b.WriteString(c.selector.String())
	}
	b.WriteByte('|')
	if requireAllKeys {
		keys := make([]string, len(cs))
		for j := range cs {
			keys[j] = cs[j].topologyKey
		}
		sort.Strings(keys)
		b.WriteString(strings.Join(keys, ","))
	}
	if c.nodeAffinityPolicy == corev1.NodeInclusionPolicyHonor {
		b.WriteString("|affinity:")
		nodeAffinityKey(&b, pod)
	}
	if c.nodeTaintsPolicy == corev1.NodeInclusionPolicyHonor {
		b.WriteString("|tolerations:")
		for _, t := range pod.Spec.Tolerations {
			fmt.Fprintf(&b, "%s/%s/%s/%s;", t.Key, t.Operator, t.Value, t.Effect)
		}
	}
	return b.String()
}

func nodeAffinityKey(b *strings.Builder, pod *corev1.Pod) {
	keys := make([]string, 0, len(pod.Spec.NodeSelector))
	for k := range pod.Spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "%s=%s,", k, pod.Spec.NodeSelector[k])
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		// Node selector terms hold no pointers: %v prints their content.
		fmt.Fprintf(b, "%v", *a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	}
}
