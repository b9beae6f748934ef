package nodelifecycle

import (
	corev1 "k8s.io/api/core/v1"
)

// ZoneState is how healthy a zone's nodes are, as upstream names the states.
type ZoneState string

const (
	stateInitial           ZoneState = "Initial"
	stateNormal            ZoneState = "Normal"
	stateFullDisruption    ZoneState = "FullDisruption"
	statePartialDisruption ZoneState = "PartialDisruption"
)

// excludeDisruptionLabel keeps a node out of its zone's health count.
const excludeDisruptionLabel = "node.kubernetes.io/exclude-disruption"

// zoneState judges a zone from its nodes' Ready conditions: no Ready node is a
// full disruption; more than two not-Ready nodes making at least threshold of
// the zone is a partial one.
func zoneState(ready []*corev1.NodeCondition, threshold float32) (notReady int, state ZoneState) {
	readyCount := 0
	for _, c := range ready {
		if c != nil && c.Status == corev1.ConditionTrue {
			readyCount++
		} else {
			notReady++
		}
	}
	switch {
	case readyCount == 0 && notReady > 0:
		return notReady, stateFullDisruption
	case notReady > 2 && float32(notReady)/float32(notReady+readyCount) >= threshold:
		return notReady, statePartialDisruption
	}
	return notReady, stateNormal
}

// evictionRates are the per-zone tainting rates (nodes per second).
type evictionRates struct {
	Normal, Secondary float32
	// LargeCluster is the zone size above which a partially disrupted zone
	// still evicts, at the secondary rate; smaller ones stop.
	LargeCluster int32
}

// rateFor returns a zone's tainting rate in a state. A fully disrupted zone
// keeps the normal rate: its nodes are likely gone for good (unless every zone
// is disrupted, which stops everything).
func (r evictionRates) rateFor(state ZoneState, zoneSize int) float32 {
	switch state {
	case statePartialDisruption:
		if int32(zoneSize) > r.LargeCluster {
			return r.Secondary
		}
		return 0
	}
	return r.Normal
}

// disruptionMode is what a pass does about zone states.
type disruptionMode int

const (
	// modeUnchanged: nothing to do.
	modeUnchanged disruptionMode = iota
	// modePerZone: zones whose state changed get their zone's rate.
	modePerZone
	// modeEnterFull: every zone lost all its nodes. The trouble is more likely
	// the control plane's view than the nodes, so evictions stop and taints go.
	modeEnterFull
	// modeExitFull: some node is back; every node's health clock restarts so
	// nodes are not evicted for the time the view was broken.
	modeExitFull
)

// planDisruption compares the last pass's zone states with this pass's. It
// updates old to what is known of zones (new zones start Initial, vanished
// ones are dropped) and says what to do.
func planDisruption(old, cur map[string]ZoneState) disruptionMode {
	allFull := true
	for z, s := range cur {
		if s != stateFullDisruption {
			allFull = false
		}
		if _, ok := old[z]; !ok {
			old[z] = stateInitial
		}
	}
	wasAllFull := true
	for z, s := range old {
		if _, ok := cur[z]; !ok {
			delete(old, z)
			continue
		}
		if s != stateFullDisruption {
			wasAllFull = false
		}
	}
	switch {
	case allFull && wasAllFull:
		return modeUnchanged
	case allFull:
		return modeEnterFull
	case wasAllFull:
		return modeExitFull
	}
	return modePerZone
}
