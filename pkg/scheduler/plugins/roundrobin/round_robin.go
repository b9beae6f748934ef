// Package roundrobin is an example of a custom scheduling algorithm: the
// RoundRobin plugin places each pod on the next feasible node after the last one
// it chose, in node-name order, so pods go around the nodes in turn. It shows the
// three extension points a scoring algorithm needs (docs/scheduler.md walks
// through it): PreScore picks the node, Score gives it the only non-zero score,
// Reserve remembers it.
package roundrobin

import (
	"context"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.RoundRobin

const stateKey fw.StateKey = "PreScore" + Name

// RoundRobin takes the feasible nodes in turn.
type RoundRobin struct {
	mu   sync.Mutex
	last string // the node chosen last
}

var (
	_ fw.PreScorePlugin = &RoundRobin{}
	_ fw.ScorePlugin    = &RoundRobin{}
	_ fw.ReservePlugin  = &RoundRobin{}
)

// New makes the plugin; it takes no arguments.
func New(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) { return &RoundRobin{}, nil }

// Name implements fw.Plugin.
func (*RoundRobin) Name() string { return Name }

type choice string

func (c choice) Clone() fw.StateData { return c }

// PreScore implements fw.PreScorePlugin: of the feasible nodes, the first whose
// name sorts after the last choice (wrapping around) is this pod's.
func (pl *RoundRobin) PreScore(_ context.Context, state *fw.CycleState, _ *corev1.Pod, nodes []*fw.NodeInfo) *fw.Status {
	pl.mu.Lock()
	last := pl.last
	pl.mu.Unlock()
	state.Write(stateKey, choice(Next(last, nodeNames(nodes))))
	return nil
}

// Next is the name after last in sorted order, wrapping around; names must not be empty.
func Next(last string, names []string) string {
	sort.Strings(names)
	i := sort.SearchStrings(names, last)
	if i < len(names) && names[i] == last {
		i++
	}
	return names[i%len(names)]
}

func nodeNames(nodes []*fw.NodeInfo) []string {
	out := make([]string, len(nodes))
	for i, ni := range nodes {
		out[i] = ni.Node().Name
	}
	return out
}

// Score implements fw.ScorePlugin: the chosen node gets the maximum, the rest 0.
func (*RoundRobin) Score(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	if d, ok := state.Read(stateKey); ok && string(d.(choice)) == ni.Node().Name {
		return fw.MaxNodeScore, nil
	}
	return 0, nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (*RoundRobin) ScoreExtensions() fw.ScoreExtensions { return nil }

// Reserve implements fw.ReservePlugin: the node the pod got is the new "last",
// whichever way it was chosen (a single feasible node skips scoring).
func (pl *RoundRobin) Reserve(_ context.Context, _ *fw.CycleState, _ *corev1.Pod, node string) *fw.Status {
	pl.mu.Lock()
	pl.last = node
	pl.mu.Unlock()
	return nil
}

// Unreserve implements fw.ReservePlugin; a failed binding keeps the turn moving.
func (*RoundRobin) Unreserve(context.Context, *fw.CycleState, *corev1.Pod, string) {}
