// Package profile builds one scheduling profile — the plugins a schedulerName runs
// at each extension point, with their weights and arguments — and runs those
// extension points for a pod: PreFilter, Filter over nodes, PostFilter, PreScore,
// Score with normalization and weights, Reserve, Permit, PreBind, Bind, PostBind.
package profile
