package podtopologyspread

import (
	"context"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/matchcount"
)

const preFilterKey fw.StateKey = "PreFilter" + Name

// preFilterState holds, per DoNotSchedule constraint, the matching pods per
// domain and the two least loaded domains.
type preFilterState struct {
	constraints []constraint
	filter      podFilter
	// selfMatch is 1 where the incoming pod matches the constraint's selector.
	selfMatch []int64
	counts    []*matchcount.Counts
	// domains is the number of domains of each constraint (for minDomains);
	// present holds, per domain number, its counted nodes.
	domains []int
	present [][]int32
	// addedDomains are domains preemption added a pod to that had no counted
	// node (nil almost always).
	addedDomains []map[string]bool
	paths        []criticalPaths
}

// Clone implements fw.StateData.
func (s *preFilterState) Clone() fw.StateData {
	c := *s
	c.counts = make([]*matchcount.Counts, len(s.counts))
	for i, n := range s.counts {
		c.counts[i] = n.Clone()
	}
	c.domains = append([]int(nil), s.domains...)
	c.paths = append([]criticalPaths(nil), s.paths...)
	c.addedDomains = make([]map[string]bool, len(s.addedDomains))
	for i, m := range s.addedDomains {
		if m != nil {
			c.addedDomains[i] = make(map[string]bool, len(m))
			for k := range m {
				c.addedDomains[i][k] = true
			}
		}
	}
	return &c
}

// criticalPaths are the two domains with the fewest matching pods, least first,
// kept up to date as preemption adds and removes pods (as upstream keeps them:
// exact when counts fall, an estimate when the least loaded domains fill up).
type criticalPaths [2]struct {
	value string
	pods  int64
}

func newCriticalPaths() criticalPaths {
	var p criticalPaths
	p[0].pods, p[1].pods = math.MaxInt32, math.MaxInt32
	return p
}

func (p *criticalPaths) update(value string, pods int64) {
	i := -1
	switch value {
	case p[0].value:
		i = 0
	case p[1].value:
		i = 1
	}
	if i >= 0 {
		p[i].pods = pods
		if p[0].pods > p[1].pods {
			p[0], p[1] = p[1], p[0]
		}
		return
	}
	if pods < p[0].pods {
		p[1] = p[0]
		p[0].value, p[0].pods = value, pods
	} else if pods < p[1].pods {
		p[1].value, p[1].pods = value, pods
	}
}

// PreFilter implements fw.PreFilterPlugin: it counts matching pods per domain of
// each DoNotSchedule constraint over nodes that have all the constraints'
// topology keys and pass their node inclusion policies. A pod without such
// constraints skips Filter.
func (pl *PodTopologySpread) PreFilter(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, nodes []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	cs, err := pl.constraintsFor(pod, corev1.DoNotSchedule)
	if err != nil {
		return nil, fw.AsStatus(fmt.Errorf("get constraints from pod: %w", err))
	}
	if len(cs) == 0 {
		return nil, fw.NewStatus(fw.Skip)
	}
	s := &preFilterState{constraints: cs, filter: newPodFilter(pod), selfMatch: make([]int64, len(cs)),
		counts: make([]*matchcount.Counts, len(cs)), domains: make([]int, len(cs)),
		addedDomains: make([]map[string]bool, len(cs)), paths: make([]criticalPaths, len(cs))}
	podLabels := labels.Set(pod.Labels)
	for i := range cs {
		if cs[i].selector.Matches(podLabels) {
			s.selfMatch[i] = 1
		}
		t := pl.tally(ctx, nodes, pod, cs, i, true, &s.filter)
		s.domains[i] = t.Present()
		s.present = append(s.present, t.Nodes)
		s.paths[i] = leastLoaded(t)
		s.counts[i] = t.Counts(1)
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

// tally counts constraint i's matching pods per domain over the nodes.
func (pl *PodTopologySpread) tally(ctx context.Context, nodes []*fw.NodeInfo, pod *corev1.Pod, cs []constraint, i int, requireAllKeys bool, f *podFilter) *matchcount.Tally {
	c := &cs[i]
	ns := pod.Namespace
	return pl.counts.Tally(ctx, pl.parallel, nodes, matchcount.Question{
		Key:         countKey(pod, cs, i, requireAllKeys),
		TopologyKey: c.topologyKey,
		Count: func(ni *fw.NodeInfo) (int32, bool) {
			node := ni.Node()
			if requireAllKeys && !hasAllKeys(node.Labels, cs) {
				return 0, false
			}
			if !c.includes(f, node) {
				return 0, false
			}
			return countMatching(ni.Pods, c.selector, ns), true
		},
	})
}

// leastLoaded finds the two present domains with the fewest matching pods.
func leastLoaded(t *matchcount.Tally) criticalPaths {
	p := newCriticalPaths()
	first, second := -1, -1
	for d, nodes := range t.Nodes {
		if nodes == 0 {
			continue
		}
		switch {
		case first < 0 || t.Pods[d] < t.Pods[first]:
			first, second = d, first
		case second < 0 || t.Pods[d] < t.Pods[second]:
			second = d
		}
	}
	if first >= 0 {
		p[0].value, p[0].pods = t.Domains.Value(int32(first)), t.Pods[first]
	}
	if second >= 0 {
		p[1].value, p[1].pods = t.Domains.Value(int32(second)), t.Pods[second]
	}
	return p
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (pl *PodTopologySpread) PreFilterExtensions() fw.PreFilterExtensions { return pl }

// AddPod implements fw.PreFilterExtensions.
func (pl *PodTopologySpread) AddPod(_ context.Context, state *fw.CycleState, pod *corev1.Pod, add *fw.PodInfo, ni *fw.NodeInfo) *fw.Status {
	s, err := readPreFilterState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	s.updateWithPod(add.Pod, pod, ni.Node(), 1)
	return nil
}

// RemovePod implements fw.PreFilterExtensions.
func (pl *PodTopologySpread) RemovePod(_ context.Context, state *fw.CycleState, pod *corev1.Pod, rm *fw.PodInfo, ni *fw.NodeInfo) *fw.Status {
	s, err := readPreFilterState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	s.updateWithPod(rm.Pod, pod, ni.Node(), -1)
	return nil
}

func (s *preFilterState) updateWithPod(p, incoming *corev1.Pod, node *corev1.Node, delta int64) {
	if node == nil || p.Namespace != incoming.Namespace || !hasAllKeys(node.Labels, s.constraints) {
		return
	}
	podLabels := labels.Set(p.Labels)
	for i := range s.constraints {
		c := &s.constraints[i]
		if !c.selector.Matches(podLabels) || !c.includes(&s.filter, node) {
			continue
		}
		v := node.Labels[c.topologyKey]
		if d, ok := s.counts[i].Domains().Index(v); !(ok && s.present[i][d] > 0) && !s.addedDomains[i][v] {
			if s.addedDomains[i] == nil {
				s.addedDomains[i] = map[string]bool{}
			}
			s.addedDomains[i][v] = true
			s.domains[i]++
		}
		s.counts[i].Add(v, delta)
		s.paths[i].update(v, s.counts[i].Get(v))
	}
}

func readPreFilterState(state *fw.CycleState) (*preFilterState, error) {
	d, ok := state.Read(preFilterKey)
	if !ok {
		return nil, fmt.Errorf("reading %q from cycleState: not found", preFilterKey)
	}
	s, ok := d.(*preFilterState)
	if !ok {
		return nil, fmt.Errorf("%+v convert to podtopologyspread.preFilterState error", d)
	}
	return s, nil
}

// Filter implements fw.FilterPlugin: on the node, each constraint's domain would
// hold its matching pods plus the incoming pod (if it matches); that may exceed
// the least loaded domain's count (0 while there are fewer domains than
// minDomains) by at most maxSkew.
func (pl *PodTopologySpread) Filter(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	s, err := readPreFilterState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := ni.Label(c.topologyKey)
		if !ok {
			return fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
		}
		least := s.paths[i][0].pods
		if s.domains[i] < int(c.minDomains) {
			least = 0
		}
		if s.counts[i].Get(v)+s.selfMatch[i]-least > int64(c.maxSkew) {
			return fw.NewStatus(fw.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
}
