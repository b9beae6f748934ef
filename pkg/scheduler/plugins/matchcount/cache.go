package matchcount

import (
	"context"
	"sync"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Question is what to count.
type Question struct {
	// Key names the predicate: two questions with the same Key must give the
	// same answer on the same node info. It should hold everything Count depends
	// on (namespace, selector, node inclusion rules) besides the node info.
	Key string
	// TopologyKey is the node label whose values are the domains; nodes without
	// it are left out.
	TopologyKey string
	// Count is the number of matching pods on a node, and whether the node is
	// included at all. It is called concurrently for different nodes.
	Count func(ni *fw.NodeInfo) (pods int32, included bool)
}

// Tally is the answer for the nodes asked about, by domain.
type Tally struct {
	Domains *Domains
	// Pods and Nodes are, per domain number, the matching pods and the included
	// nodes. A domain with no included node is not in the cluster this cycle.
	Pods  []int64
	Nodes []int32
}

// Present is the number of domains with an included node.
func (t *Tally) Present() int {
	n := 0
	for _, c := range t.Nodes {
		if c > 0 {
			n++
		}
	}
	return n
}

// PodsIn is the matching pods in the domain with the value (0 if unknown).
func (t *Tally) PodsIn(value string) int64 {
	if i, ok := t.Domains.Index(value); ok {
		return t.Pods[i]
	}
	return 0
}

// DefaultMaxEntries bounds the questions remembered; each costs a few bytes per node.
const DefaultMaxEntries = 16

// Cache remembers the per-node answers to recent questions.
type Cache struct {
	mu      sync.Mutex
	max     int
	clock   uint64
	entries map[string]*entry
}

// entry is one question's answers, per node of the list last asked about.
type entry struct {
	lastUse uint64
	domains *Domains
	nodes   []*fw.NodeInfo
	gens    []int64
	pods    []int32
	// domain is the node's domain number, -1 when the node is left out.
	domain []int32
}

// New makes a cache of at most max questions (DefaultMaxEntries if max <= 0).
func New(max int) *Cache {
	if max <= 0 {
		max = DefaultMaxEntries
	}
	return &Cache{max: max, entries: map[string]*entry{}}
}

// Tally answers a question over nodes, counting again only the nodes that are
// new or changed since the question was last asked.
func (c *Cache) Tally(ctx context.Context, par fw.Parallelizer, nodes []*fw.NodeInfo, q Question) *Tally {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	id := q.TopologyKey + "\x00" + q.Key
	e := c.entries[id]
	if e == nil {
		e = &entry{domains: emptyDomains}
		c.evictLocked()
		c.entries[id] = e
	}
	e.lastUse = c.clock
	stale := e.align(nodes)
	if len(stale) > 0 {
		if !e.recount(ctx, par, nodes, stale, q) {
			// Cancelled half way: forget rather than keep half-counted nodes.
			delete(c.entries, id)
			return &Tally{Domains: emptyDomains}
		}
	}
	t := &Tally{Domains: e.domains, Pods: make([]int64, e.domains.Len()), Nodes: make([]int32, e.domains.Len())}
	for i, d := range e.domain {
		if d >= 0 {
			t.Pods[d] += int64(e.pods[i])
			t.Nodes[d]++
		}
	}
	return t
}

func (c *Cache) evictLocked() {
	if len(c.entries) < c.max {
		return
	}
	var oldest string
	var at uint64
	first := true
	for k, e := range c.entries {
		if first || e.lastUse < at {
			oldest, at, first = k, e.lastUse, false
		}
	}
	delete(c.entries, oldest)
}

// align lines the entry up with the nodes asked about now and returns the
// positions that must be counted. When the node list changed (nodes came or
// went), answers are carried over by node info.
func (e *entry) align(nodes []*fw.NodeInfo) []int {
	if len(e.nodes) != len(nodes) {
		e.carryOver(nodes)
	}
	stale := e.stale(nodes)
	if len(stale) > len(nodes)/2 && len(stale) > 16 && e.domains.Len() > 0 {
		// Most positions moved (a node went and another came): match by node.
		e.carryOver(nodes)
		stale = e.stale(nodes)
	}
	return stale
}

func (e *entry) stale(nodes []*fw.NodeInfo) []int {
	var stale []int
	for i, ni := range nodes {
		if e.nodes[i] != ni || e.gens[i] != ni.Generation {
			stale = append(stale, i)
		}
	}
	return stale
}

func (e *entry) carryOver(nodes []*fw.NodeInfo) {
	old := make(map[*fw.NodeInfo]int, len(e.nodes))
	for i, ni := range e.nodes {
		old[ni] = i
	}
	n := len(nodes)
	ns, gens, pods, domain := make([]*fw.NodeInfo, n), make([]int64, n), make([]int32, n), make([]int32, n)
	for i, ni := range nodes {
		if j, ok := old[ni]; ok {
			ns[i], gens[i], pods[i], domain[i] = ni, e.gens[j], e.pods[j], e.domain[j]
		}
	}
	e.nodes, e.gens, e.pods, e.domain = ns, gens, pods, domain
	// Values of nodes long gone would pile up (one per node with hostname keys).
	if e.domains.Len() > 2*n+16 {
		e.domains = emptyDomains
		for i := range e.nodes {
			e.nodes[i] = nil
		}
	}
}

// recount counts the stale positions in parallel, then numbers their domains.
func (e *entry) recount(ctx context.Context, par fw.Parallelizer, nodes []*fw.NodeInfo, stale []int, q Question) bool {
	values := make([]string, len(stale))
	pods := make([]int32, len(stale))
	included := make([]bool, len(stale))
	par.Until(ctx, len(stale), func(k int) {
		ni := nodes[stale[k]]
		node := ni.Node()
		if node == nil {
			return
		}
		v, ok := node.Labels[q.TopologyKey]
		if !ok {
			return
		}
		n, in := q.Count(ni)
		values[k], pods[k], included[k] = v, n, in
	})
	if ctx.Err() != nil {
		return false
	}
	var fresh []string
	var seen map[string]bool
	for k := range stale {
		if !included[k] {
			continue
		}
		if _, ok := e.domains.Index(values[k]); ok || seen[values[k]] {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[values[k]] = true
		fresh = append(fresh, values[k])
	}
	e.domains = e.domains.with(fresh)
	for k, i := range stale {
		e.nodes[i], e.gens[i], e.pods[i], e.domain[i] = nodes[i], nodes[i].Generation, pods[k], -1
		if included[k] {
			d, _ := e.domains.Index(values[k])
			e.domain[i] = d
		}
	}
	return true
}
