package matchcount

// Domains numbers the values of one topology key. A Domains is never changed
// once handed out (a new value makes a new Domains), so a cycle's state can keep
// one while later cycles add values.
type Domains struct {
	index  map[string]int32
	values []string
}

var emptyDomains = &Domains{index: map[string]int32{}}

// Index is the number of a value, if it is known.
func (d *Domains) Index(value string) (int32, bool) {
	i, ok := d.index[value]
	return i, ok
}

// Len is the number of values.
func (d *Domains) Len() int { return len(d.values) }

// Value is the value numbered i.
func (d *Domains) Value(i int32) string { return d.values[i] }

// with returns domains that also number the new values (which must be distinct
// and unknown): a copy, since d may be in use.
func (d *Domains) with(newValues []string) *Domains {
	if len(newValues) == 0 {
		return d
	}
	n := &Domains{index: make(map[string]int32, len(d.index)+len(newValues)), values: make([]string, 0, len(d.values)+len(newValues))}
	for v, i := range d.index {
		n.index[v] = i
	}
	n.values = append(n.values, d.values...)
	for _, v := range newValues {
		n.index[v] = int32(len(n.values))
		n.values = append(n.values, v)
	}
	return n
}
