package garbagecollector

import "sync"

// absentCache remembers owners known to be gone, so the dependents of one
// deleted owner do not each ask the API server about it. It holds at most size
// entries, dropping the oldest.
type absentCache struct {
	mu    sync.Mutex
	size  int
	set   map[objectRef]struct{}
	order []objectRef
}

func newAbsentCache(size int) *absentCache {
	return &absentCache{size: size, set: map[objectRef]struct{}{}}
}

func (c *absentCache) add(r objectRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[r]; ok {
		return
	}
	if len(c.order) >= c.size {
		delete(c.set, c.order[0])
		c.order = c.order[1:]
	}
	c.set[r] = struct{}{}
	c.order = append(c.order, r)
}

func (c *absentCache) has(r objectRef) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.set[r]
	return ok
}
