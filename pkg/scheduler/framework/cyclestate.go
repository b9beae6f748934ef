package framework

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

// Delete removes a plugin's data.
func (c *CycleState) Delete(key StateKey) { delete(c.data, key) }

// Clone copies the state and every value in it.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	n := &CycleState{data: make(map[StateKey]StateData, len(c.data)), SkipFilterPlugins: c.SkipFilterPlugins, SkipScorePlugins: c.SkipScorePlugins}
	for k, v := range c.data {
		n.data[k] = v.Clone()
	}
	return n
}
