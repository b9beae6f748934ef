package interpodaffinity

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/matchcount"
)

// Upstream's reasons.
const (
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
)

const preFilterKey fw.StateKey = "PreFilter" + Name

// preFilterState is what Filter needs, counted once per pod.
type preFilterState struct {
	// podInfo is the incoming pod with its terms' namespace selectors resolved
	// to namespace names.
	podInfo *fw.PodInfo
	// namespaceLabels are the labels of the incoming pod's namespace.
	namespaceLabels labels.Set
	// selfAffinity: the incoming pod matches all its own required affinity terms.
	selfAffinity bool
	// existingAntiAffinity counts existing pods' required anti-affinity terms
	// that match the incoming pod, by the topology of the node they are on.
	existingAntiAffinity topologyCounts
	// affinity counts, per topology key of the incoming pod's required affinity
	// terms, the existing pods matching all those terms, once per term with the key.
	affinity []keyCounts
	// antiAffinity counts, per required anti-affinity term of the incoming pod
	// (in order), the existing pods matching it.
	antiAffinity []*matchcount.Counts
}

// keyCounts are counts by the values of one topology key; terms is how many
// terms have the key.
type keyCounts struct {
	key    string
	terms  int64
	counts *matchcount.Counts
}

// Clone implements fw.StateData; the counts change under preemption, the pod does not.
func (s *preFilterState) Clone() fw.StateData {
	c := *s
	c.existingAntiAffinity = s.existingAntiAffinity.clone()
	c.affinity = make([]keyCounts, len(s.affinity))
	for i, k := range s.affinity {
		c.affinity[i] = keyCounts{key: k.key, terms: k.terms, counts: k.counts.Clone()}
	}
	c.antiAffinity = make([]*matchcount.Counts, len(s.antiAffinity))
	for i, a := range s.antiAffinity {
		c.antiAffinity[i] = a.Clone()
	}
	return &c
}

// affinityAt is the count of pods matching all affinity terms in the node's
// domain of key.
func (s *preFilterState) affinityAt(key, value string) int64 {
	for i := range s.affinity {
		if s.affinity[i].key == key {
			return s.affinity[i].counts.Get(value)
		}
	}
	return 0
}

// noAffinityMatch says whether no pod anywhere matches all affinity terms.
func (s *preFilterState) noAffinityMatch() bool {
	for i := range s.affinity {
		if !s.affinity[i].counts.Empty() {
			return false
		}
	}
	return true
}

// updateWithPod counts (delta 1) or uncounts (-1) an existing pod on a node.
func (s *preFilterState) updateWithPod(pi *fw.PodInfo, node *corev1.Node, delta int64) {
	if node == nil {
		return
	}
	incoming := s.podInfo.Pod
	inLabels := labels.Set(incoming.Labels)
	for i := range pi.RequiredAntiAffinityTerms {
		t := &pi.RequiredAntiAffinityTerms[i]
		if termMatches(t, inLabels, incoming.Namespace, s.namespaceLabels) {
			if v, ok := node.Labels[t.TopologyKey]; ok {
				s.existingAntiAffinity.add(t.TopologyKey, v, delta)
			}
		}
	}
	podLabels := labels.Set(pi.Pod.Labels)
	if matchesAll(s.podInfo.RequiredAffinityTerms, podLabels, pi.Pod.Namespace) {
		for i := range s.affinity {
			if v, ok := node.Labels[s.affinity[i].key]; ok {
				s.affinity[i].counts.Add(v, delta*s.affinity[i].terms)
			}
		}
	}
	for i := range s.podInfo.RequiredAntiAffinityTerms {
		t := &s.podInfo.RequiredAntiAffinityTerms[i]
		if v, ok := node.Labels[t.TopologyKey]; ok && termMatches(t, podLabels, pi.Pod.Namespace, nil) {
			s.antiAffinity[i].Add(v, delta)
		}
	}
}

// PreFilter implements fw.PreFilterPlugin: it counts, over the whole snapshot,
// the existing pods the incoming pod's required terms match, and the existing
// pods whose required anti-affinity matches the incoming pod. A pod with no
// required terms that no existing anti-affinity matches skips Filter.
func (pl *InterPodAffinity) PreFilter(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, nodes []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	s := &preFilterState{}
	aff := pod.Spec.Affinity
	hasRequired := aff != nil && ((aff.PodAffinity != nil && len(aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0) ||
		(aff.PodAntiAffinity != nil && len(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0))
	withAnti := pl.snapshot.HavePodsWithRequiredAntiAffinityList()
	if !hasRequired && len(withAnti) == 0 {
		return nil, fw.NewStatus(fw.Skip)
	}
	s.podInfo = fw.NewPodInfo(pod)
	if err := s.podInfo.ParseError; err != nil {
		return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, fmt.Sprintf("parsing pod: %+v", err))
	}
	for i := range s.podInfo.RequiredAffinityTerms {
		if err := pl.resolveNamespaceSelector(&s.podInfo.RequiredAffinityTerms[i]); err != nil {
			return nil, fw.AsStatus(err)
		}
	}
	for i := range s.podInfo.RequiredAntiAffinityTerms {
		if err := pl.resolveNamespaceSelector(&s.podInfo.RequiredAntiAffinityTerms[i]); err != nil {
			return nil, fw.AsStatus(err)
		}
	}
	s.namespaceLabels = pl.namespaceLabels(pod.Namespace)
	s.existingAntiAffinity = pl.countExistingAntiAffinity(ctx, pod, s.namespaceLabels, withAnti)
	pl.countIncomingTerms(ctx, s, nodes)
	if len(s.existingAntiAffinity) == 0 && !hasRequired {
		return nil, fw.NewStatus(fw.Skip)
	}
	s.selfAffinity = matchesAll(s.podInfo.RequiredAffinityTerms, labels.Set(pod.Labels), pod.Namespace)
	state.Write(preFilterKey, s)
	return nil, nil
}

// countExistingAntiAffinity counts, by topology, the required anti-affinity
// terms of existing pods that the incoming pod matches. Only nodes holding such
// pods are walked; each node's hits go to its own slot, merged afterwards.
func (pl *InterPodAffinity) countExistingAntiAffinity(ctx context.Context, pod *corev1.Pod, nsLabels labels.Set, nodes []*fw.NodeInfo) topologyCounts {
	out := topologyCounts{}
	if len(nodes) == 0 {
		return out
	}
	podLabels := labels.Set(pod.Labels)
	found := make([]hits, len(nodes))
	pl.parallel.Until(ctx, len(nodes), func(n int) {
		ni := nodes[n]
		if ni.Node() == nil {
			return
		}
		for _, existing := range ni.PodsWithRequiredAntiAffinity {
			for i := range existing.RequiredAntiAffinityTerms {
				t := &existing.RequiredAntiAffinityTerms[i]
				if termMatches(t, podLabels, pod.Namespace, nsLabels) {
					found[n].add(t.TopologyKey, 1)
				}
			}
		}
	})
	total := 0
	for n := range found {
		total += found[n].n
	}
	for n := range found {
		if found[n].n > 0 {
			out.reserve(found[n].first.key, total)
		}
		found[n].each(func(key string, count int64) { out.addOnNode(nodes[n], key, count) })
	}
	return out
}

// countIncomingTerms counts, by topology, the existing pods matching all the
// incoming pod's required affinity terms, and those matching each of its required
// anti-affinity terms. The per-node counts are kept between cycles (matchcount),
// so the next replica of the same workload only recounts nodes that changed.
func (pl *InterPodAffinity) countIncomingTerms(ctx context.Context, s *preFilterState, nodes []*fw.NodeInfo) {
	terms := s.podInfo.RequiredAffinityTerms
	for i := range terms {
		key := terms[i].TopologyKey
		known := false
		for j := range s.affinity {
			if s.affinity[j].key == key {
				s.affinity[j].terms++
				known = true
			}
		}
		if !known {
			s.affinity = append(s.affinity, keyCounts{key: key, terms: 1})
		}
	}
	// A pod matching all terms counts once per term with the key, as AddPod
	// and RemovePod count it.
	for i := range s.affinity {
		k := &s.affinity[i]
		k.counts = pl.countMatchingAll(ctx, nodes, terms, k.key).Counts(k.terms)
	}
	anti := s.podInfo.RequiredAntiAffinityTerms
	s.antiAffinity = make([]*matchcount.Counts, len(anti))
	for i := range anti {
		s.antiAffinity[i] = pl.countMatching(ctx, nodes, &anti[i]).Counts(1)
	}
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (pl *InterPodAffinity) PreFilterExtensions() fw.PreFilterExtensions { return pl }

// AddPod implements fw.PreFilterExtensions.
func (pl *InterPodAffinity) AddPod(_ context.Context, state *fw.CycleState, _ *corev1.Pod, add *fw.PodInfo, ni *fw.NodeInfo) *fw.Status {
	s, err := readPreFilterState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	s.updateWithPod(add, ni.Node(), 1)
	return nil
}

// RemovePod implements fw.PreFilterExtensions.
func (pl *InterPodAffinity) RemovePod(_ context.Context, state *fw.CycleState, _ *corev1.Pod, rm *fw.PodInfo, ni *fw.NodeInfo) *fw.Status {
	s, err := readPreFilterState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	s.updateWithPod(rm, ni.Node(), -1)
	return nil
}

func readPreFilterState(state *fw.CycleState) (*preFilterState, error) {
	d, ok := state.Read(preFilterKey)
	if !ok {
		return nil, fmt.Errorf("error reading %q from cycleState: not found", preFilterKey)
	}
	s, ok := d.(*preFilterState)
	if !ok {
		return nil, fmt.Errorf("%+v  convert to interpodaffinity.state error", d)
	}
	return s, nil
}

// Filter implements fw.FilterPlugin. The incoming pod's affinity is checked
// first (preemption cannot help it), then its anti-affinity, then existing pods'
// anti-affinity (both of which removing pods can fix).
func (pl *InterPodAffinity) Filter(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	s, err := readPreFilterState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	if !s.satisfiesAffinity(ni) {
		return fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	if !s.satisfiesAntiAffinity(ni) {
		return fw.NewStatus(fw.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
	}
	if !s.satisfiesExistingAntiAffinity(ni) {
		return fw.NewStatus(fw.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
	}
	return nil
}

// satisfiesAffinity: the node has every affinity term's topology key, and each of
// its domains holds a pod matching all the terms. The first pod of a group that
// has affinity to itself may go to any node with the keys when no pod anywhere
// matches yet; otherwise it would wait forever.
func (s *preFilterState) satisfiesAffinity(ni *fw.NodeInfo) bool {
	found := true
	for i := range s.podInfo.RequiredAffinityTerms {
		key := s.podInfo.RequiredAffinityTerms[i].TopologyKey
		v, ok := ni.Label(key)
		if !ok {
			return false
		}
		if s.affinityAt(key, v) <= 0 {
			found = false
		}
	}
	if found {
		return true
	}
	return s.selfAffinity && s.noAffinityMatch()
}

// satisfiesAntiAffinity: no domain of the node holds a pod one of the incoming
// pod's anti-affinity terms matches.
func (s *preFilterState) satisfiesAntiAffinity(ni *fw.NodeInfo) bool {
	for i := range s.podInfo.RequiredAntiAffinityTerms {
		key := s.podInfo.RequiredAntiAffinityTerms[i].TopologyKey
		if v, ok := ni.Label(key); ok && s.antiAffinity[i].Get(v) > 0 {
			return false
		}
	}
	return true
}

// satisfiesExistingAntiAffinity: no domain of the node holds a pod whose
// anti-affinity the incoming pod matches.
func (s *preFilterState) satisfiesExistingAntiAffinity(ni *fw.NodeInfo) bool {
	for key, values := range s.existingAntiAffinity {
		if v, ok := ni.Label(key); ok && values[v] > 0 {
			return false
		}
	}
	return true
}
