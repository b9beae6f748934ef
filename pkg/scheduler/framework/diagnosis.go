package framework

import (
	"fmt"
	"sort"
	"strings"
)

// NodeToStatus records why each node was rejected. Nodes not in the map share
// AbsentStatus (for instance every node when a PreFilter narrowed the set).
type NodeToStatus struct {
	statuses     map[string]*Status
	AbsentStatus *Status
}

// NewNodeToStatus makes an empty map whose absent nodes are UnschedulableAndUnresolvable.
func NewNodeToStatus() *NodeToStatus {
	return &NodeToStatus{statuses: map[string]*Status{}, AbsentStatus: NewStatus(UnschedulableAndUnresolvable)}
}

// Set records a node's status.
func (m *NodeToStatus) Set(node string, s *Status) { m.statuses[node] = s }

// Get returns a node's status, or the absent status.
func (m *NodeToStatus) Get(node string) *Status {
	if s, ok := m.statuses[node]; ok {
		return s
	}
	return m.AbsentStatus
}

// Len is the number of nodes with their own status.
func (m *NodeToStatus) Len() int { return len(m.statuses) }

// Range visits every recorded node in name order.
func (m *NodeToStatus) Range(f func(node string, s *Status)) {
	names := make([]string, 0, len(m.statuses))
	for n := range m.statuses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f(n, m.statuses[n])
	}
}

// NodesWithCode lists, in the lister's order, the nodes whose status has code:
// the recorded ones and, when the absent status has it, every node not recorded.
func (m *NodeToStatus) NodesWithCode(lister NodeInfoLister, code Code) []*NodeInfo {
	all := lister.List()
	if m.AbsentStatus.Code() != code {
		if len(m.statuses) == 0 {
			return nil
		}
		out := make([]*NodeInfo, 0, len(m.statuses))
		for _, ni := range all {
			if s, ok := m.statuses[ni.Node().Name]; ok && s.Code() == code {
				out = append(out, ni)
			}
		}
		return out
	}
	if len(m.statuses) == 0 {
		return append([]*NodeInfo(nil), all...)
	}
	out := make([]*NodeInfo, 0, len(all))
	for _, ni := range all {
		if m.Get(ni.Node().Name).Code() == code {
			out = append(out, ni)
		}
	}
	return out
}

// CountWithCode counts the nodes, of numAll, whose status has code.
func (m *NodeToStatus) CountWithCode(numAll int, code Code) int {
	n := 0
	for _, s := range m.statuses {
		if s.Code() == code {
			n++
		}
	}
	if m.AbsentStatus.Code() == code && numAll > len(m.statuses) {
		n += numAll - len(m.statuses)
	}
	return n
}

// Diagnosis explains why a pod fits nowhere.
type Diagnosis struct {
	NodeToStatus *NodeToStatus
	// UnschedulablePlugins and PendingPlugins rejected the pod somewhere.
	UnschedulablePlugins map[string]bool
	PendingPlugins       map[string]bool
	// PreFilterMsg is a PreFilter plugin's rejection, which applies to every node.
	PreFilterMsg string
	// PostFilterMsg is what preemption said.
	PostFilterMsg string
}

// FitError is the error of a pod that fits on no node; its message is the one
// upstream writes in the FailedScheduling event and the PodScheduled condition.
type FitError struct {
	NumAllNodes int
	Diagnosis   Diagnosis
}

// NoNodeAvailableMsg starts every FitError message.
const NoNodeAvailableMsg = "0/%v nodes are available"

func (f *FitError) Error() string {
	var msg string
	if f.Diagnosis.PreFilterMsg != "" {
		msg = fmt.Sprintf(NoNodeAvailableMsg+": %v.", f.NumAllNodes, f.Diagnosis.PreFilterMsg)
	} else {
		msg = NodesUnavailableMessage(f.NumAllNodes, f.reasonCounts())
	}
	// The PostFilter message is a sentence of its own ("preemption: ...") and
	// brings its own full stop, as upstream's.
	if f.Diagnosis.PostFilterMsg != "" {
		msg += " " + f.Diagnosis.PostFilterMsg
	}
	return msg
}

// NodesUnavailableMessage is FitError's message for nodes counted by the reason
// they failed: "0/3 nodes are available: 1 Insufficient cpu, 2 ...". Reasons
// are sorted as strings (so "1 ..." before "2 ..."), as upstream prints them.
func NodesUnavailableMessage(numAll int, counts map[string]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, NoNodeAvailableMsg+":", numAll)
	hist := make([]string, 0, len(counts))
	for r, n := range counts {
		if n > 0 {
			hist = append(hist, fmt.Sprintf("%v %v", n, r))
		}
	}
	if len(hist) > 0 {
		sort.Strings(hist)
		fmt.Fprintf(&b, " %v.", strings.Join(hist, ", "))
	}
	return b.String()
}

// reasonCounts counts each reason over the nodes, absent ones included.
func (f *FitError) reasonCounts() map[string]int {
	counts := map[string]int{}
	m := f.Diagnosis.NodeToStatus
	if m == nil {
		return counts
	}
	for _, s := range m.statuses {
		for _, r := range s.Reasons() {
			counts[r]++
		}
	}
	if absent := f.NumAllNodes - m.Len(); absent > 0 {
		for _, r := range m.AbsentStatus.Reasons() {
			counts[r] += absent
		}
	}
	return counts
}
