package cache

import (
	"fmt"

	"github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Snapshot is the cluster as one scheduling cycle sees it. Only the scheduling
// goroutine touches it.
type Snapshot struct {
	byName       map[string]*framework.NodeInfo
	list         []*framework.NodeInfo
	position     map[string]int
	withAffinity []*framework.NodeInfo
	withAnti     []*framework.NodeInfo
}

var _ framework.NodeInfoLister = &Snapshot{}

// NewEmptySnapshot makes a snapshot with no nodes.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{byName: map[string]*framework.NodeInfo{}, position: map[string]int{}}
}

// NewSnapshot makes a snapshot of fixed node infos, for tests.
func NewSnapshot(infos ...*framework.NodeInfo) *Snapshot {
	s := NewEmptySnapshot()
	for _, ni := range infos {
		s.byName[ni.Node().Name] = ni
		s.position[ni.Node().Name] = len(s.list)
		s.list = append(s.list, ni)
	}
	s.rebuildAffinityLists()
	return s
}

// List implements framework.NodeInfoLister.
func (s *Snapshot) List() []*framework.NodeInfo { return s.list }

// NumNodes implements framework.NodeInfoLister.
func (s *Snapshot) NumNodes() int { return len(s.list) }

// HavePodsWithAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithAffinityList() []*framework.NodeInfo { return s.withAffinity }

// HavePodsWithRequiredAntiAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo { return s.withAnti }

// Get implements framework.NodeInfoLister.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, error) {
	if ni, ok := s.byName[name]; ok {
		return ni, nil
	}
	return nil, fmt.Errorf("nodeinfo not found for node name %q", name)
}

func (s *Snapshot) rebuildAffinityLists() {
	s.withAffinity, s.withAnti = s.withAffinity[:0], s.withAnti[:0]
	for _, ni := range s.list {
		if len(ni.PodsWithAffinity) > 0 {
			s.withAffinity = append(s.withAffinity, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			s.withAnti = append(s.withAnti, ni)
		}
	}
}

// UpdateSnapshot brings the snapshot up to date with the cache, copying only the
// nodes that changed since the last call.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.dirty) == 0 && !c.listChanged {
		return
	}
	affinityChanged := false
	for name := range c.dirty {
		old := s.byName[name]
		ni := c.nodes[name]
		if ni == nil || ni.Node() == nil {
			if old != nil {
				delete(s.byName, name)
				affinityChanged = true
			}
			continue
		}
		if old != nil && old.Generation == ni.Generation {
			continue
		}
		cp := ni.Clone()
		cp.ImageStates = c.imageSummaries(ni)
		s.byName[name] = cp
		if pos, ok := s.position[name]; ok && !c.listChanged {
			s.list[pos] = cp
		}
		if old == nil || len(old.PodsWithAffinity) > 0 || len(cp.PodsWithAffinity) > 0 ||
			len(old.PodsWithRequiredAntiAffinity) > 0 || len(cp.PodsWithRequiredAntiAffinity) > 0 {
			affinityChanged = true
		}
	}
	clear(c.dirty)
	if c.listChanged {
		names := c.tree.list()
		s.list = s.list[:0]
		clear(s.position)
		for _, n := range names {
			if ni := s.byName[n]; ni != nil {
				s.position[n] = len(s.list)
				s.list = append(s.list, ni)
			}
		}
		c.listChanged = false
		affinityChanged = true
	}
	if affinityChanged {
		s.rebuildAffinityLists()
	}
}

// imageSummaries gives a node's images with how many nodes have each, as of now.
func (c *Cache) imageSummaries(ni *framework.NodeInfo) map[string]*framework.ImageStateSummary {
	node := ni.Node()
	if len(node.Status.Images) == 0 {
		return nil
	}
	out := make(map[string]*framework.ImageStateSummary, len(node.Status.Images))
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			if st := c.images[name]; st != nil {
				out[name] = &framework.ImageStateSummary{Size: st.size, NumNodes: st.nodes.Len()}
			}
		}
	}
	return out
}
