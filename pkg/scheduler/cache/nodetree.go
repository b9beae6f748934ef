package cache

import (
	corev1 "k8s.io/api/core/v1"
)

// nodeTree groups node names by zone so the scheduler can walk them zone by zone in
// turn: with percentageOfNodesToScore below 100, the nodes it looks at then come
// from every zone, as upstream's do.
type nodeTree struct {
	zones    []string
	byZone   map[string][]string
	numNodes int
}

func newNodeTree() *nodeTree { return &nodeTree{byZone: map[string][]string{}} }

// zoneKey is region and zone; nodes with neither share the empty zone.
func zoneKey(node *corev1.Node) string {
	l := node.Labels
	region, zone := l[corev1.LabelTopologyRegion], l[corev1.LabelTopologyZone]
	if region == "" {
		region = l[corev1.LabelFailureDomainBetaRegion]
	}
	if zone == "" {
		zone = l[corev1.LabelFailureDomainBetaZone]
	}
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}

func (t *nodeTree) add(node *corev1.Node) {
	z := zoneKey(node)
	names, ok := t.byZone[z]
	for _, n := range names {
		if n == node.Name {
			return
		}
	}
	if !ok {
		t.zones = append(t.zones, z)
	}
	t.byZone[z] = append(names, node.Name)
	t.numNodes++
}

func (t *nodeTree) remove(node *corev1.Node) {
	z := zoneKey(node)
	names := t.byZone[z]
	for i, n := range names {
		if n != node.Name {
			continue
		}
		names = append(names[:i], names[i+1:]...)
		t.numNodes--
		if len(names) == 0 {
			delete(t.byZone, z)
			for j, zz := range t.zones {
				if zz == z {
					t.zones = append(t.zones[:j], t.zones[j+1:]...)
					break
				}
			}
		} else {
			t.byZone[z] = names
		}
		return
	}
}

func (t *nodeTree) update(old, node *corev1.Node) {
	if zoneKey(old) == zoneKey(node) {
		return
	}
	t.remove(old)
	t.add(node)
}

// list is every node name, one zone after another in turn.
func (t *nodeTree) list() []string {
	out := make([]string, 0, t.numNodes)
	for i := 0; len(out) < t.numNodes; i++ {
		for _, z := range t.zones {
			if names := t.byZone[z]; i < len(names) {
				out = append(out, names[i])
			}
		}
	}
	return out
}
