package framework

import corev1 "k8s.io/api/core/v1"

// StateKey names a plugin's data in the cycle state.
type StateKey string

// StateData is what a plugin keeps for the cycle; Clone is needed because
// preemption tries removing pods on a copy of the state.
type StateData interface {
	Clone() StateData
}

// CycleState is the data plugins share during one pod's scheduling cycle. It is
// written in single-threaded steps (PreFilter, PreScore) and read concurrently by
// Filter and Score, so it needs no lock.
type CycleState struct {
	data map[StateKey]StateData
	// SkipFilterPlugins and SkipScorePlugins are plugins whose PreFilter or PreScore
	// said Skip.
	SkipFilterPlugins map[string]bool
	SkipScorePlugins  map[string]bool
	// PodInfo is the scheduling view of the pod the cycle is for, computed once
	// when it was queued; nil in plugin tests that do not set it.
	PodInfo *PodInfo
}

// NewCycleState makes an empty state.
func NewCycleState() *CycleState {
	return &CycleState{data: make(map[StateKey]StateData, 8)}
}

// Read returns a plugin's data.
func (c *CycleState) Read(key StateKey) (StateData, bool) {
	d, ok := c.data[key]
	return d, ok
}

// Write stores a plugin's data.
func (c *CycleState) Write(key StateKey, d StateData) { c.data[key] = d }

// PodInfoFor returns the cycle's pod info when it is pod's, else computes one.
func (c *CycleState) PodInfoFor(pod *corev1.Pod) *PodInfo {
	if c != nil && c.PodInfo != nil && c.PodInfo.Pod == pod {
		return c.PodInfo
	}
	return NewPodInfo(pod)
}

// Delete removes a plugin's data.
func (c *CycleState) Delete(key StateKey) { delete(c.data, key) }

// Clone copies the state and every value in it.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	n := &CycleState{data: make(map[StateKey]StateData, len(c.data)), SkipFilterPlugins: c.SkipFilterPlugins, SkipScorePlugins: c.SkipScorePlugins,
		PodInfo: c.PodInfo}
	for k, v := range c.data {
		n.data[k] = v.Clone()
	}
	return n
}
