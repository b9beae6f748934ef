package podtopologyspread

import (
	"context"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/matchcount"
)

const preScoreKey fw.StateKey = "PreScore" + Name

// preScoreState holds, per ScheduleAnyway constraint, the matching pods per
// domain (not for hostname: Score counts a node's own pods) and the weight of
// the constraint, which grows with its number of domains.
type preScoreState struct {
	constraints []constraint
	namespace   string
	// ignored are feasible nodes without every topology key (when required).
	ignored map[string]bool
	counts  []*matchcount.Tally
	weights []float64
}

// Clone implements fw.StateData; nothing changes after PreScore.
func (s *preScoreState) Clone() fw.StateData { return s }

// PreScore implements fw.PreScorePlugin. The pod's own ScheduleAnyway
// constraints, or the default ones, are weighed by log(domains+2), domains
// counted among the feasible nodes; matching pods are counted over all nodes.
// With system defaults a feasible node without a topology key is still scored
// (on the keys it has); otherwise it is ignored (scored 0).
func (pl *PodTopologySpread) PreScore(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, feasible []*fw.NodeInfo) *fw.Status {
	all := pl.snapshot.List()
	if len(all) == 0 {
		return fw.NewStatus(fw.Skip)
	}
	cs, err := pl.constraintsFor(pod, corev1.ScheduleAnyway)
	if err != nil {
		return fw.AsStatus(fmt.Errorf("calculating preScoreState: %w", err))
	}
	if len(cs) == 0 {
		return fw.NewStatus(fw.Skip)
	}
	requireAllKeys := len(pod.Spec.TopologySpreadConstraints) > 0 || !pl.systemDefaulted
	s := &preScoreState{constraints: cs, namespace: pod.Namespace, counts: make([]*matchcount.Tally, len(cs)), weights: make([]float64, len(cs))}
	sizes := make([]int, len(cs))
	var seen []map[string]bool
	for _, ni := range feasible {
		node := ni.Node()
		if requireAllKeys && !hasAllKeys(node.Labels, cs) {
			if s.ignored == nil {
				s.ignored = map[string]bool{}
			}
			s.ignored[node.Name] = true
			continue
		}
		if seen == nil {
			seen = make([]map[string]bool, len(cs))
			for i := range seen {
				seen[i] = map[string]bool{}
			}
		}
		for i := range cs {
			if cs[i].topologyKey == corev1.LabelHostname {
				continue
			}
			// A node without the key is the domain "" (system defaults only).
			v := node.Labels[cs[i].topologyKey]
			if !seen[i][v] {
				seen[i][v] = true
				sizes[i]++
			}
		}
	}
	f := newPodFilter(pod)
	for i := range cs {
		size := sizes[i]
		if cs[i].topologyKey == corev1.LabelHostname {
			size = len(feasible) - len(s.ignored)
		} else {
			s.counts[i] = pl.tally(ctx, all, pod, cs, i, requireAllKeys, &f)
		}
		s.weights[i] = math.Log(float64(size + 2))
	}
	state.Write(preScoreKey, s)
	return nil
}

func readPreScoreState(state *fw.CycleState) (*preScoreState, error) {
	d, ok := state.Read(preScoreKey)
	if !ok {
		return nil, fmt.Errorf("error reading %q from cycleState: not found", preScoreKey)
	}
	s, ok := d.(*preScoreState)
	if !ok {
		return nil, fmt.Errorf("%+v  convert to podtopologyspread.preScoreState error", d)
	}
	return s, nil
}

// Score implements fw.ScorePlugin: per constraint whose key the node has, the
// matching pods in its domain times the constraint's weight, plus maxSkew-1.
// More is worse (NormalizeScore reverses it).
func (pl *PodTopologySpread) Score(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	s, err := readPreScoreState(state)
	if err != nil {
		return 0, fw.AsStatus(err)
	}
	node := ni.Node()
	if s.ignored[node.Name] {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := node.Labels[c.topologyKey]
		if !ok {
			continue
		}
		var n int64
		if c.topologyKey == corev1.LabelHostname {
			n = int64(countMatching(ni.Pods, c.selector, s.namespace))
		} else {
			n = s.counts[i].PodsIn(v)
		}
		score += float64(n)*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (pl *PodTopologySpread) ScoreExtensions() fw.ScoreExtensions { return pl }

// NormalizeScore implements fw.ScoreExtensions: the lowest raw score gets
// MaxNodeScore and the rest less in proportion; ignored nodes get 0.
func (pl *PodTopologySpread) NormalizeScore(_ context.Context, state *fw.CycleState, _ *corev1.Pod, scores fw.NodeScoreList) *fw.Status {
	s, err := readPreScoreState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, sc := range scores {
		if s.ignored[sc.Name] {
			continue
		}
		lo = min(lo, sc.Score)
		hi = max(hi, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignored[scores[i].Name]:
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = fw.MaxNodeScore
		default:
			scores[i].Score = fw.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
