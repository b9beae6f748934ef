package interpodaffinity

import (
	"context"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

const preScoreKey fw.StateKey = "PreScore" + Name

// keyScores are the scores of one topology key's domains.
type keyScores struct {
	key    string
	values map[string]int64
}

// preScoreState is the score of every topology domain; a node's raw score is
// the sum over the keys of its domains' scores.
type preScoreState struct {
	scores []keyScores
}

// Clone implements fw.StateData; scores do not change after PreScore.
func (s *preScoreState) Clone() fw.StateData { return s }

func hasPreferredTerms(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	if a == nil {
		return false
	}
	return (a.PodAffinity != nil && len(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0) ||
		(a.PodAntiAffinity != nil && len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0)
}

// PreScore implements fw.PreScorePlugin. A domain scores the weights of:
// the incoming pod's preferred affinity terms (minus its preferred anti-affinity
// terms) that existing pods there match; existing pods' required affinity terms
// the incoming pod matches (at hardPodAffinityWeight); and existing pods'
// preferred affinity (minus anti-affinity) terms it matches. The last two only
// concern nodes with pods that have affinity terms.
func (pl *InterPodAffinity) PreScore(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) *fw.Status {
	hasPreferred := hasPreferredTerms(pod)
	if pl.ignorePreferredTermsOfExistingPods && !hasPreferred {
		return fw.NewStatus(fw.Skip)
	}
	withAffinity := pl.snapshot.HavePodsWithAffinityList()
	if !hasPreferred && len(withAffinity) == 0 {
		return fw.NewStatus(fw.Skip)
	}
	counts := topologyCounts{}
	if hasPreferred {
		pi := fw.NewPodInfo(pod)
		if err := pi.ParseError; err != nil {
			return fw.AsStatus(fmt.Errorf("failed to parse pod: %w", err))
		}
		nodes := pl.snapshot.List()
		for i := range pi.PreferredAffinityTerms {
			t := &pi.PreferredAffinityTerms[i]
			if err := pl.resolveNamespaceSelector(&t.AffinityTerm); err != nil {
				return fw.AsStatus(fmt.Errorf("updating PreferredAffinityTerms: %w", err))
			}
			counts.addTally(t.TopologyKey, pl.countMatching(ctx, nodes, &t.AffinityTerm), int64(t.Weight))
		}
		for i := range pi.PreferredAntiAffinityTerms {
			t := &pi.PreferredAntiAffinityTerms[i]
			if err := pl.resolveNamespaceSelector(&t.AffinityTerm); err != nil {
				return fw.AsStatus(fmt.Errorf("updating PreferredAntiAffinityTerms: %w", err))
			}
			counts.addTally(t.TopologyKey, pl.countMatching(ctx, nodes, &t.AffinityTerm), -int64(t.Weight))
		}
	}
	pl.scoreExistingTerms(ctx, counts, pod, pl.namespaceLabels(pod.Namespace), withAffinity)
	if len(counts) == 0 {
		return fw.NewStatus(fw.Skip)
	}
	s := &preScoreState{scores: make([]keyScores, 0, len(counts))}
	for k, values := range counts {
		s.scores = append(s.scores, keyScores{key: k, values: values})
	}
	state.Write(preScoreKey, s)
	return nil
}

// scoreExistingTerms adds to the counts the weights of existing pods' terms
// that the incoming pod matches: required affinity at hardPodAffinityWeight,
// preferred affinity and anti-affinity at their weights. Each node's hits go
// to its own slot, merged by the nodes' labels afterwards.
func (pl *InterPodAffinity) scoreExistingTerms(ctx context.Context, counts topologyCounts, pod *corev1.Pod, nsLabels labels.Set, nodes []*fw.NodeInfo) {
	if len(nodes) == 0 {
		return
	}
	inLabels := labels.Set(pod.Labels)
	hard := int64(pl.hardPodAffinityWeight)
	found := make([]hits, len(nodes))
	pl.parallel.Until(ctx, len(nodes), func(n int) {
		node := nodes[n].Node()
		if node == nil || len(node.Labels) == 0 {
			return
		}
		h := &found[n]
		for _, existing := range nodes[n].PodsWithAffinity {
			if hard > 0 {
				for j := range existing.RequiredAffinityTerms {
					t := &existing.RequiredAffinityTerms[j]
					if termMatches(t, inLabels, pod.Namespace, nsLabels) {
						h.add(t.TopologyKey, hard)
					}
				}
			}
			for j := range existing.PreferredAffinityTerms {
				t := &existing.PreferredAffinityTerms[j]
				if termMatches(&t.AffinityTerm, inLabels, pod.Namespace, nsLabels) {
					h.add(t.TopologyKey, int64(t.Weight))
				}
			}
			for j := range existing.PreferredAntiAffinityTerms {
				t := &existing.PreferredAntiAffinityTerms[j]
				if termMatches(&t.AffinityTerm, inLabels, pod.Namespace, nsLabels) {
					h.add(t.TopologyKey, -int64(t.Weight))
				}
			}
		}
	})
	for n := range found {
		found[n].each(func(key string, count int64) { counts.addOnNode(nodes[n], key, count) })
	}
}

func readPreScoreState(state *fw.CycleState) (*preScoreState, error) {
	d, ok := state.Read(preScoreKey)
	if !ok {
		return nil, fmt.Errorf("failed to read %q from cycleState: not found", preScoreKey)
	}
	s, ok := d.(*preScoreState)
	if !ok {
		return nil, fmt.Errorf("%+v  convert to interpodaffinity.preScoreState error", d)
	}
	return s, nil
}

// Score implements fw.ScorePlugin: the sum of the scores of the node's domains,
// positive for affinity and negative for anti-affinity (normalized later).
func (pl *InterPodAffinity) Score(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	s, err := readPreScoreState(state)
	if err != nil {
		return 0, fw.AsStatus(err)
	}
	nodeLabels := ni.Node().Labels
	var score int64
	for i := range s.scores {
		if v, ok := nodeLabels[s.scores[i].key]; ok {
			score += s.scores[i].values[v]
		}
	}
	return score, nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (pl *InterPodAffinity) ScoreExtensions() fw.ScoreExtensions { return pl }

// NormalizeScore implements fw.ScoreExtensions: scores are scaled linearly so the
// lowest becomes 0 and the highest MaxNodeScore.
func (pl *InterPodAffinity) NormalizeScore(_ context.Context, state *fw.CycleState, _ *corev1.Pod, scores fw.NodeScoreList) *fw.Status {
	s, err := readPreScoreState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	if len(s.scores) == 0 {
		return nil
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, sc := range scores {
		lo = min(lo, sc.Score)
		hi = max(hi, sc.Score)
	}
	diff := hi - lo
	for i := range scores {
		var f float64
		if diff > 0 {
			f = float64(fw.MaxNodeScore) * (float64(scores[i].Score-lo) / float64(diff))
		}
		scores[i].Score = int64(f)
	}
	return nil
}
