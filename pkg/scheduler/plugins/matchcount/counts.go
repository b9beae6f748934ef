package matchcount

// Counts are one cycle's matching pods by domain value, which preemption may
// change (pods removed from or added to nodes).
type Counts struct {
	domains *Domains
	pods    []int64
	// extra holds values the domains do not number (a pod added on a node the
	// tally did not see).
	extra map[string]int64
	// nonZero is the number of values with a count other than zero.
	nonZero int
}

// Counts turns the tally into counts, each pod counted weight times. The tally
// gives its pod counts away: it must not be used afterwards.
func (t *Tally) Counts(weight int64) *Counts {
	c := &Counts{domains: t.Domains, pods: t.Pods}
	for i, n := range c.pods {
		if n != 0 {
			c.pods[i] = n * weight
			c.nonZero++
		}
	}
	t.Pods = nil
	return c
}

// Domains are the numbered values the counts started with.
func (c *Counts) Domains() *Domains { return c.domains }

// Get is the count of a value.
func (c *Counts) Get(value string) int64 {
	if i, ok := c.domains.Index(value); ok {
		return c.pods[i]
	}
	return c.extra[value]
}

// Add changes the count of a value.
func (c *Counts) Add(value string, delta int64) {
	if delta == 0 {
		return
	}
	var before int64
	if i, ok := c.domains.Index(value); ok {
		before = c.pods[i]
		c.pods[i] += delta
	} else {
		if c.extra == nil {
			c.extra = map[string]int64{}
		}
		before = c.extra[value]
		c.extra[value] = before + delta
		if before+delta == 0 {
			delete(c.extra, value)
		}
	}
	switch after := before + delta; {
	case before == 0 && after != 0:
		c.nonZero++
	case before != 0 && after == 0:
		c.nonZero--
	}
}

// Empty says whether every count is zero.
func (c *Counts) Empty() bool { return c.nonZero == 0 }

// Each calls f for every value with a count other than zero.
func (c *Counts) Each(f func(value string, n int64)) {
	for i, n := range c.pods {
		if n != 0 {
			f(c.domains.Value(int32(i)), n)
		}
	}
	for v, n := range c.extra {
		f(v, n)
	}
}

// Clone copies the counts (the domains are shared: they never change).
func (c *Counts) Clone() *Counts {
	out := &Counts{domains: c.domains, pods: append([]int64(nil), c.pods...), nonZero: c.nonZero}
	if len(c.extra) > 0 {
		out.extra = make(map[string]int64, len(c.extra))
		for v, n := range c.extra {
			out.extra[v] = n
		}
	}
	return out
}
