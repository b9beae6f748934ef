package profile

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// RunPreFilterPlugins runs every PreFilter plugin. A rejection ends the cycle for
// the pod; the returned result narrows the nodes to filter. The names returned are
// the rejecting plugin on failure, else the plugins that narrowed the nodes.
func (p *Profile) RunPreFilterPlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, nodes []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status, []string) {
	var result *fw.PreFilterResult
	var narrowing []string
	var skip map[string]bool
	for _, pl := range p.preFilter {
		r, s := pl.PreFilter(ctx, state, pod, nodes)
		if s.IsSkip() {
			if skip == nil {
				skip = map[string]bool{}
			}
			skip[pl.Name()] = true
			continue
		}
		if !s.IsSuccess() {
			s.WithPlugin(pl.Name())
			if s.IsRejected() {
				return nil, s, []string{pl.Name()}
			}
			return nil, fw.AsStatus(fmt.Errorf("running PreFilter plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name()), nil
		}
		if !r.AllNodes() {
			narrowing = append(narrowing, pl.Name())
		}
		result = result.Merge(r)
		if !result.AllNodes() && len(result.NodeNames) == 0 {
			msg := fmt.Sprintf("node(s) didn't satisfy plugin(s) %v simultaneously", narrowing)
			if len(narrowing) == 1 {
				msg = "node(s) didn't satisfy plugin " + narrowing[0]
			}
			return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, msg), narrowing
		}
	}
	state.SkipFilterPlugins = skip
	return result, nil, narrowing
}

// RunFilterPlugins runs the filters on one node and returns the first rejection.
func (p *Profile) RunFilterPlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	for _, pl := range p.filter {
		if state.SkipFilterPlugins[pl.Name()] {
			continue
		}
		if s := pl.Filter(ctx, state, pod, ni); !s.IsSuccess() {
			if !s.IsRejected() {
				s = fw.AsStatus(fmt.Errorf("running %q filter plugin: %w", pl.Name(), s.AsError()))
			}
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunFilterPluginsWithNominatedPods implements framework.Handle: with nominated
// pods of at least the pod's priority on the node, the pod must fit both with
// them (they will come) and without them (pod affinity to them must not count
// before they are there).
func (p *Profile) RunFilterPluginsWithNominatedPods(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	nominated := p.higherNominated(pod, ni)
	if len(nominated) > 0 {
		withState := state.Clone()
		withNode := ni.Clone()
		for _, npi := range nominated {
			withNode.AddPodInfo(npi)
			if s := p.RunPreFilterExtensionAddPod(ctx, withState, pod, npi, withNode); !s.IsSuccess() {
				return s
			}
		}
		if s := p.RunFilterPlugins(ctx, withState, pod, withNode); !s.IsSuccess() {
			return s
		}
	}
	return p.RunFilterPlugins(ctx, state, pod, ni)
}

func (p *Profile) higherNominated(pod *corev1.Pod, ni *fw.NodeInfo) []*fw.PodInfo {
	node := ni.Node()
	if node == nil || p.deps.Nominator == nil || !p.deps.Nominator.Any() {
		return nil
	}
	list := p.deps.Nominator.NominatedPodsForNode(node.Name)
	if len(list) == 0 {
		return nil
	}
	prio := corev1helpers.PodPriority(pod)
	var out []*fw.PodInfo
	for _, npi := range list {
		if npi.Pod.UID != pod.UID && corev1helpers.PodPriority(npi.Pod) >= prio {
			out = append(out, npi)
		}
	}
	return out
}

// RunPreFilterExtensionAddPod implements framework.Handle.
func (p *Profile) RunPreFilterExtensionAddPod(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, add *fw.PodInfo, ni *fw.NodeInfo) *fw.Status {
	for _, pl := range p.preFilter {
		ext := pl.PreFilterExtensions()
		if ext == nil || state.SkipFilterPlugins[pl.Name()] {
			continue
		}
		if s := ext.AddPod(ctx, state, pod, add, ni); !s.IsSuccess() {
			return fw.AsStatus(fmt.Errorf("running AddPod on PreFilter plugin %q: %w", pl.Name(), s.AsError()))
		}
	}
	return nil
}

// RunPreFilterExtensionRemovePod implements framework.Handle.
func (p *Profile) RunPreFilterExtensionRemovePod(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, rm *fw.PodInfo, ni *fw.NodeInfo) *fw.Status {
	for _, pl := range p.preFilter {
		ext := pl.PreFilterExtensions()
		if ext == nil || state.SkipFilterPlugins[pl.Name()] {
			continue
		}
		if s := ext.RemovePod(ctx, state, pod, rm, ni); !s.IsSuccess() {
			return fw.AsStatus(fmt.Errorf("running RemovePod on PreFilter plugin %q: %w", pl.Name(), s.AsError()))
		}
	}
	return nil
}

// RunPostFilterPlugins runs PostFilter plugins until one succeeds or one says
// nothing can help (UnschedulableAndUnresolvable). The message says what each
// rejecting plugin found (for the FitError); the result is the last one a
// rejecting plugin returned (nil: leave the nomination alone).
func (p *Profile) RunPostFilterPlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, statuses *fw.NodeToStatus) (*fw.PostFilterResult, *fw.Status) {
	var reasons []string
	var rejector string
	var result *fw.PostFilterResult
	for _, pl := range p.postFilter {
		r, s := pl.PostFilter(ctx, state, pod, statuses)
		if s.IsSuccess() {
			return r, s
		}
		if s.Code() == fw.UnschedulableAndUnresolvable {
			return r, s.WithPlugin(pl.Name())
		}
		if !s.IsRejected() {
			return nil, fw.AsStatus(s.AsError()).WithPlugin(pl.Name())
		}
		if r != nil {
			result = r
		}
		reasons = append(reasons, s.Reasons()...)
		if rejector == "" {
			rejector = pl.Name()
		}
	}
	return result, fw.NewStatus(fw.Unschedulable, reasons...).WithPlugin(rejector)
}

// RunPreScorePlugins runs every PreScore plugin; Skip drops that plugin's Score.
func (p *Profile) RunPreScorePlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, nodes []*fw.NodeInfo) *fw.Status {
	var skip map[string]bool
	for _, pl := range p.preScore {
		s := pl.PreScore(ctx, state, pod, nodes)
		if s.IsSkip() {
			if skip == nil {
				skip = map[string]bool{}
			}
			skip[pl.Name()] = true
			continue
		}
		if !s.IsSuccess() {
			return fw.AsStatus(fmt.Errorf("running PreScore plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
	}
	state.SkipScorePlugins = skip
	return nil
}

// PluginScores is one node's scores per plugin (weighted) and in total.
type PluginScores struct {
	Name   string
	Scores []fw.NodeScore // per plugin: Name is the plugin
	Total  int64
}

// RunScorePlugins scores every node: each plugin's raw scores, normalized, times
// its weight, summed. It returns the totals in node order and, if detail, every
// plugin's weighted score per node.
func (p *Profile) RunScorePlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, nodes []*fw.NodeInfo, detail bool) ([]fw.NodeScore, [][]fw.NodeScore, *fw.Status) {
	var active []weighted
	for _, pl := range p.score {
		if !state.SkipScorePlugins[pl.Name()] {
			active = append(active, pl)
		}
	}
	n := len(nodes)
	if need := n * (len(active) + 1); cap(p.scoreBuf) < need {
		p.scoreBuf = make([]fw.NodeScore, need)
	}
	buf := p.scoreBuf[:n*(len(active)+1)]
	clear(buf)
	totals := buf[:n:n]
	for i, ni := range nodes {
		totals[i].Name = ni.Node().Name
	}
	if len(active) == 0 {
		return totals, nil, nil
	}
	var perPluginArr [16]fw.NodeScoreList
	perPlugin := perPluginArr[:0]
	for j := range active {
		perPlugin = append(perPlugin, buf[n*(j+1):n*(j+2):n*(j+2)])
	}
	errs := make([]*fw.Status, len(active))
	p.deps.Parallelizer.Until(ctx, len(nodes), func(i int) {
		ni := nodes[i]
		name := ni.Node().Name
		for j, pl := range active {
			s, st := pl.Score(ctx, state, pod, ni)
			if !st.IsSuccess() {
				errs[j] = st
				return
			}
			perPlugin[j][i] = fw.NodeScore{Name: name, Score: s}
		}
	})
	for j, st := range errs {
		if st != nil {
			return nil, nil, fw.AsStatus(fmt.Errorf("running Score plugin %q: %w", active[j].Name(), st.AsError())).WithPlugin(active[j].Name())
		}
	}
	for j, pl := range active {
		if ext := pl.ScoreExtensions(); ext != nil {
			if st := ext.NormalizeScore(ctx, state, pod, perPlugin[j]); !st.IsSuccess() {
				return nil, nil, fw.AsStatus(fmt.Errorf("running Normalize on Score plugin %q: %w", pl.Name(), st.AsError())).WithPlugin(pl.Name())
			}
		}
	}
	var details [][]fw.NodeScore
	if detail {
		details = make([][]fw.NodeScore, len(nodes))
	}
	for j, pl := range active {
		for i := range nodes {
			s := perPlugin[j][i].Score
			if s > fw.MaxNodeScore || s < fw.MinNodeScore {
				return nil, nil, fw.AsStatus(fmt.Errorf("plugin %q returns an invalid score %v, it should in the range of [%v, %v] after normalizing",
					pl.Name(), s, fw.MinNodeScore, fw.MaxNodeScore))
			}
			s *= pl.weight
			totals[i].Score += s
			if detail {
				details[i] = append(details[i], fw.NodeScore{Name: pl.Name(), Score: s})
			}
		}
	}
	return totals, details, nil
}

// RunReservePlugins runs Reserve; on failure the caller runs Unreserve.
func (p *Profile) RunReservePlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, node string) *fw.Status {
	for _, pl := range p.reserve {
		if s := pl.Reserve(ctx, state, pod, node); !s.IsSuccess() {
			if s.IsRejected() {
				return s.WithPlugin(pl.Name())
			}
			return fw.AsStatus(fmt.Errorf("running Reserve plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunUnreservePlugins undoes Reserve, in reverse order.
func (p *Profile) RunUnreservePlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, node string) {
	for i := len(p.reserve) - 1; i >= 0; i-- {
		p.reserve[i].Unreserve(ctx, state, pod, node)
	}
}

// RunPermitPlugins asks every Permit plugin; waiting is not supported, so Wait is
// treated as a rejection to retry.
func (p *Profile) RunPermitPlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, node string) *fw.Status {
	for _, pl := range p.permit {
		s := pl.Permit(ctx, state, pod, node)
		if s.IsSuccess() {
			continue
		}
		if s.IsRejected() || s.IsWait() {
			return fw.NewStatus(fw.Unschedulable, s.Reasons()...).WithPlugin(pl.Name())
		}
		return fw.AsStatus(fmt.Errorf("running Permit plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
	}
	return nil
}

// RunPreBindPlugins runs PreBind.
func (p *Profile) RunPreBindPlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, node string) *fw.Status {
	for _, pl := range p.preBind {
		if s := pl.PreBind(ctx, state, pod, node); !s.IsSuccess() {
			if s.IsRejected() {
				return s.WithPlugin(pl.Name())
			}
			return fw.AsStatus(fmt.Errorf("running PreBind plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunBindPlugins binds with the first plugin that does not Skip.
func (p *Profile) RunBindPlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, node string) *fw.Status {
	for _, pl := range p.bind {
		s := pl.Bind(ctx, state, pod, node)
		if s.IsSkip() {
			continue
		}
		if !s.IsSuccess() {
			if s.IsRejected() {
				return s.WithPlugin(pl.Name())
			}
			return fw.AsStatus(fmt.Errorf("running Bind plugin %q: %w", pl.Name(), s.AsError())).WithPlugin(pl.Name())
		}
		return nil
	}
	return fw.NewStatus(fw.Skip)
}

// RunPostBindPlugins tells PostBind plugins.
func (p *Profile) RunPostBindPlugins(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, node string) {
	for _, pl := range p.postBind {
		pl.PostBind(ctx, state, pod, node)
	}
}

// Describe lists the profile's plugins per extension point, for logs and docs.
func (p *Profile) Describe() string {
	var b strings.Builder
	points := []string{PointPreFilter, PointFilter, PointPostFilter, PointScore, PointBind}
	sort.Strings(points)
	for _, pt := range points {
		fmt.Fprintf(&b, "%s: %s\n", pt, strings.Join(p.PluginNames(pt), ", "))
	}
	return b.String()
}
