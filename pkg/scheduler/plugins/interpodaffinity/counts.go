package interpodaffinity

import fw "github.com/minik8s/minik8s/pkg/scheduler/framework"

// topologyCounts counts, per topology key and value, the pods (or terms) that
// match: key -> value -> count. Entries that fall to zero are removed, so an
// empty map means no match anywhere.
type topologyCounts map[string]map[string]int64

func (m topologyCounts) add(key, value string, delta int64) {
	if delta == 0 {
		return
	}
	values := m[key]
	if values == nil {
		values = map[string]int64{}
		m[key] = values
	}
	n := values[value] + delta
	if n != 0 {
		values[value] = n
		return
	}
	delete(values, value)
	if len(values) == 0 {
		delete(m, key)
	}
}

// addOnNode counts delta at the node's value of key, if the node has that label.
func (m topologyCounts) addOnNode(ni *fw.NodeInfo, key string, delta int64) {
	if v, ok := ni.Label(key); ok {
		m.add(key, v, delta)
	}
}

// reserve makes room for n values of key up front, sparing rehashes when many
// nodes (hostnames) add their own value.
func (m topologyCounts) reserve(key string, n int) {
	if m[key] == nil && n > 8 {
		m[key] = make(map[string]int64, n)
	}
}

func (m topologyCounts) clone() topologyCounts {
	out := make(topologyCounts, len(m))
	for k, values := range m {
		c := make(map[string]int64, len(values))
		for v, n := range values {
			c[v] = n
		}
		out[k] = c
	}
	return out
}

// hit is a match found on a node: count at the node's value of key.
type hit struct {
	key   string
	count int64
}

// hits are the matches found on one node; the first is kept inline so that a
// node with one match allocates nothing.
type hits struct {
	first hit
	n     int
	more  []hit
}

func (h *hits) add(key string, count int64) {
	if h.n == 0 {
		h.first = hit{key: key, count: count}
	} else {
		h.more = append(h.more, hit{key: key, count: count})
	}
	h.n++
}

func (h *hits) each(f func(key string, count int64)) {
	if h.n == 0 {
		return
	}
	f(h.first.key, h.first.count)
	for _, x := range h.more {
		f(x.key, x.count)
	}
}
