package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
)

// ErrNoNodesAvailable is the failure of a pod when the cluster has no nodes.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Thresholds of the partial node search, as upstream's.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// scheduleResult is where a pod goes.
type scheduleResult struct {
	host           string
	evaluatedNodes int
	feasibleNodes  int
}

// scheduleOne takes the next pod from the queue and runs its scheduling cycle;
// binding goes on in the background.
func (s *Scheduler) scheduleOne(ctx context.Context) {
	qpi := s.queue.Pop()
	if qpi == nil {
		return
	}
	pod := qpi.Pod
	prof := s.profiles[pod.Spec.SchedulerName]
	if prof == nil || s.skip(pod) {
		s.queue.Done(pod.UID)
		return
	}
	start := time.Now()
	cycle := s.queue.SchedulingCycle()
	state := fw.NewCycleState()
	state.PodInfo = qpi.PodInfo
	s.cache.UpdateSnapshot(s.snapshot)

	res, diag, err := s.schedulePod(ctx, prof, state, pod)
	if err != nil {
		// nominating nil leaves the pod's nominated node as it is.
		var nominating *fw.PostFilterResult
		var fitErr *fw.FitError
		if errors.As(err, &fitErr) && prof.HasPostFilters() {
			// PostFilter (preemption) may make room for the pod in a later cycle.
			r, st := prof.RunPostFilterPlugins(ctx, state, pod, fitErr.Diagnosis.NodeToStatus)
			fitErr.Diagnosis.PostFilterMsg = st.Message()
			if st.Code() == fw.Error {
				s.log.Error("running PostFilter plugins", "pod", klogKey(pod), "err", st.AsError())
				// A preemption that failed half-way (an API error) is retried
				// after back-off rather than left to wait for a cluster event.
				if diag != nil {
					diag.UnschedulablePlugins, diag.PendingPlugins = nil, nil
				}
			}
			nominating = r
		}
		s.fail(ctx, prof, qpi, err, diag, nominating, start, cycle)
		return
	}

	// Assume the pod on its node so the next cycle counts it there; counted
	// there, it no longer holds room as a nominated pod.
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = res.host
	if err := s.cache.AssumePodInfo(qpi.PodInfo.WithPod(assumed)); err != nil {
		s.fail(ctx, prof, qpi, err, nil, clearNomination, start, cycle)
		return
	}
	s.queue.Nominator().Delete(pod)
	if st := prof.RunReservePlugins(ctx, state, assumed, res.host); !st.IsSuccess() {
		prof.RunUnreservePlugins(ctx, state, assumed, res.host)
		s.cache.ForgetPod(assumed)
		s.fail(ctx, prof, qpi, statusError(st), rejectionDiag(st), clearNomination, start, cycle)
		return
	}
	if st := prof.RunPermitPlugins(ctx, state, assumed, res.host); !st.IsSuccess() {
		prof.RunUnreservePlugins(ctx, state, assumed, res.host)
		s.cache.ForgetPod(assumed)
		s.fail(ctx, prof, qpi, statusError(st), rejectionDiag(st), clearNomination, start, cycle)
		return
	}
	s.queue.Done(pod.UID)
	s.bindings.Add(1)
	go func() {
		defer s.bindings.Done()
		s.bindingCycle(ctx, prof, state, qpi, assumed, res.host, start)
	}()
}

// skip says whether the pod no longer needs scheduling: it is being deleted, or
// it was already assumed (a stale queue entry).
func (s *Scheduler) skip(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp != nil || s.cache.IsAssumedPod(pod)
}

// schedulePod finds the best node for the pod.
func (s *Scheduler) schedulePod(ctx context.Context, prof *profile.Profile, state *fw.CycleState, pod *corev1.Pod) (scheduleResult, *fw.Diagnosis, error) {
	if s.snapshot.NumNodes() == 0 {
		return scheduleResult{}, nil, ErrNoNodesAvailable
	}
	feasible, diag, err := s.findNodesThatFitPod(ctx, prof, state, pod)
	if err != nil {
		return scheduleResult{}, nil, err
	}
	if len(feasible) == 0 {
		return scheduleResult{}, &diag, &fw.FitError{NumAllNodes: s.snapshot.NumNodes(), Diagnosis: diag}
	}
	evaluated := len(feasible) + diag.NodeToStatus.Len()
	if len(feasible) == 1 {
		return scheduleResult{host: feasible[0].Node().Name, evaluatedNodes: evaluated, feasibleNodes: 1}, nil, nil
	}
	scores, err := s.prioritizeNodes(ctx, prof, state, pod, feasible)
	if err != nil {
		return scheduleResult{}, nil, err
	}
	return scheduleResult{host: selectHost(scores), evaluatedNodes: evaluated, feasibleNodes: len(feasible)}, nil, nil
}

// findNodesThatFitPod runs PreFilter, then Filter over the nodes until enough
// feasible ones are found.
func (s *Scheduler) findNodesThatFitPod(ctx context.Context, prof *profile.Profile, state *fw.CycleState, pod *corev1.Pod) ([]*fw.NodeInfo, fw.Diagnosis, error) {
	diag := fw.Diagnosis{NodeToStatus: fw.NewNodeToStatus(), UnschedulablePlugins: map[string]bool{}}
	all := s.snapshot.List()
	pre, st, plugins := prof.RunPreFilterPlugins(ctx, state, pod, all)
	if !st.IsSuccess() {
		if !st.IsRejected() {
			return nil, diag, st.AsError()
		}
		diag.NodeToStatus.AbsentStatus = st
		diag.PreFilterMsg = st.Message()
		for _, p := range plugins {
			diag.UnschedulablePlugins[p] = true
		}
		return nil, diag, nil
	}
	// A pod nominated by an earlier preemption tries that node first.
	if nn := pod.Status.NominatedNodeName; nn != "" {
		if ni, err := s.snapshot.Get(nn); err == nil {
			if st := prof.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni); st.IsSuccess() {
				return []*fw.NodeInfo{ni}, diag, nil
			}
		}
	}
	nodes := all
	if !pre.AllNodes() {
		nodes = make([]*fw.NodeInfo, 0, len(pre.NodeNames))
		for _, ni := range all {
			if _, ok := pre.NodeNames[ni.Node().Name]; ok {
				nodes = append(nodes, ni)
			}
		}
		diag.NodeToStatus.AbsentStatus = fw.NewStatus(fw.UnschedulableAndUnresolvable,
			fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", plugins))
		for _, p := range plugins {
			diag.UnschedulablePlugins[p] = true
		}
	}
	feasible, err := s.findNodesThatPassFilters(ctx, prof, state, pod, &diag, nodes)
	return feasible, diag, err
}

// numFeasibleNodesToFind is how many feasible nodes are enough: all of a small
// cluster, else a share that shrinks as the cluster grows (upstream's adaptive
// percentage), never fewer than 100.
func numFeasibleNodesToFind(percentage int32, numAll int) int {
	if numAll < minFeasibleNodesToFind {
		return numAll
	}
	p := int(percentage)
	if p <= 0 {
		p = 50 - numAll/125
		if p < minFeasibleNodesPercentageToFind {
			p = minFeasibleNodesPercentageToFind
		}
	}
	if p >= 100 {
		return numAll
	}
	n := numAll * p / 100
	if n < minFeasibleNodesToFind {
		return minFeasibleNodesToFind
	}
	return n
}

func (s *Scheduler) percentage(prof *profile.Profile) int32 {
	if p := prof.PercentageOfNodesToScore(); p != nil {
		return *p
	}
	return s.cfg.PercentageOfNodesToScore
}

// findNodesThatPassFilters filters nodes in parallel, starting where the last pod's
// search stopped, until enough feasible nodes are found.
func (s *Scheduler) findNodesThatPassFilters(ctx context.Context, prof *profile.Profile, state *fw.CycleState, pod *corev1.Pod,
	diag *fw.Diagnosis, nodes []*fw.NodeInfo) ([]*fw.NodeInfo, error) {
	n := len(nodes)
	want := numFeasibleNodesToFind(s.percentage(prof), n)
	start := s.nextStartNodeIndex % max(n, 1)
	if !prof.HasFilters() {
		out := make([]*fw.NodeInfo, want)
		for i := range out {
			out[i] = nodes[(start+i)%n]
		}
		s.nextStartNodeIndex = (start + want) % n
		return out, nil
	}
	// Scratch space is reused across cycles: only the scheduling goroutine runs here.
	if cap(s.feasibleBuf) < want {
		s.feasibleBuf = make([]*fw.NodeInfo, want)
	}
	if cap(s.statusBuf) < n {
		s.statusBuf = make([]*fw.Status, n)
	}
	feasible := s.feasibleBuf[:want]
	statuses := s.statusBuf[:n]
	clear(statuses)
	var found, checked atomic.Int64
	var firstErr atomic.Pointer[fw.Status]
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	check := func(i int) {
		ni := nodes[(start+i)%n]
		st := prof.RunFilterPluginsWithNominatedPods(fctx, state, pod, ni)
		if st.IsSuccess() {
			k := found.Add(1)
			if k > int64(want) {
				cancel()
				return
			}
			checked.Add(1)
			feasible[k-1] = ni
			if k == int64(want) {
				cancel()
			}
			return
		}
		checked.Add(1)
		if st.Code() == fw.Error {
			firstErr.CompareAndSwap(nil, st)
			cancel()
			return
		}
		statuses[i] = st
	}
	s.parallel.Until(fctx, n, check)
	if st := firstErr.Load(); st != nil {
		return nil, st.AsError()
	}
	processed := int(checked.Load())
	s.nextStartNodeIndex = (start + processed) % n
	nf := int(found.Load())
	if nf > want {
		nf = want
	}
	for i, st := range statuses {
		if st == nil {
			continue
		}
		diag.NodeToStatus.Set(nodes[(start+i)%n].Node().Name, st)
		if p := st.Plugin(); p != "" {
			if st.Code() == fw.Pending {
				if diag.PendingPlugins == nil {
					diag.PendingPlugins = map[string]bool{}
				}
				diag.PendingPlugins[p] = true
			} else {
				diag.UnschedulablePlugins[p] = true
			}
		}
	}
	out := feasible[:nf]
	clear(statuses)
	return out, nil
}

// prioritizeNodes scores the feasible nodes.
func (s *Scheduler) prioritizeNodes(ctx context.Context, prof *profile.Profile, state *fw.CycleState, pod *corev1.Pod, nodes []*fw.NodeInfo) ([]fw.NodeScore, error) {
	if !prof.HasScores() {
		out := make([]fw.NodeScore, len(nodes))
		for i, ni := range nodes {
			out[i] = fw.NodeScore{Name: ni.Node().Name, Score: 1}
		}
		return out, nil
	}
	if st := prof.RunPreScorePlugins(ctx, state, pod, nodes); !st.IsSuccess() {
		return nil, st.AsError()
	}
	scores, _, st := prof.RunScorePlugins(ctx, state, pod, nodes, false)
	if !st.IsSuccess() {
		return nil, st.AsError()
	}
	return scores, nil
}

// selectHost picks the highest score; ties are broken at random, evenly.
func selectHost(scores []fw.NodeScore) string {
	best := scores[0]
	ties := 1
	for _, sc := range scores[1:] {
		switch {
		case sc.Score > best.Score:
			best, ties = sc, 1
		case sc.Score == best.Score:
			ties++
			if rand.IntN(ties) == 0 {
				best = sc
			}
		}
	}
	return best.Name
}

func statusError(st *fw.Status) error {
	if st.IsRejected() {
		return &rejection{st}
	}
	return st.AsError()
}

// rejection is a non-filter plugin's refusal (Reserve, Permit, PreBind).
type rejection struct{ st *fw.Status }

func (r *rejection) Error() string { return r.st.Message() }

func rejectionDiag(st *fw.Status) *fw.Diagnosis {
	if !st.IsRejected() || st.Plugin() == "" {
		return nil
	}
	return &fw.Diagnosis{UnschedulablePlugins: map[string]bool{st.Plugin(): true}}
}

func klogKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }
