package rules

import (
	"slices"
	"sort"
	"time"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// StaleChainDelay is how long a chain stays flushed before it is deleted:
// kernels before 6.2 notice only after a moment that a deleted map element
// no longer refers to a chain, and refuse to delete it until then.
const StaleChainDelay = time.Second

// State is the table the kernel should hold, kept as the contributions of
// every service port, so that a change to one Service becomes a transaction
// that touches only its elements and chains.
type State struct {
	cfg      *Config
	contribs map[string]*Contribution
	pending  map[string]*Contribution // nil value: removed
	elems    map[string]map[string]*owners
	dispatch map[dispatch]int
	chains   map[string]*nft.Chain // chains of service ports, by name
	sets     map[string]*nft.Set
	stale    map[string]time.Time
	needFull bool
	base     *nft.Table // for the shared sets' declarations
}

// owners are the contributions that want one element, and what the kernel
// has. Nearly every element has one owner, kept without a map: a full table
// at 10,000 Services holds hundreds of thousands of elements.
type owners struct {
	oneKey  string
	one     nft.Element
	hasOne  bool
	more    map[string]nft.Element // owners beyond the first
	applied *nft.Element
}

func (o *owners) set(key string, e nft.Element) {
	switch {
	case !o.hasOne || o.oneKey == key:
		o.oneKey, o.one, o.hasOne = key, e, true
	default:
		if o.more == nil {
			o.more = map[string]nft.Element{}
		}
		o.more[key] = e
	}
}

func (o *owners) remove(key string) {
	if o.hasOne && o.oneKey == key {
		o.hasOne, o.oneKey, o.one = false, "", nft.Element{}
		// Promote another owner, if any.
		for k, e := range o.more {
			o.oneKey, o.one, o.hasOne = k, e, true
			delete(o.more, k)
			break
		}
		return
	}
	delete(o.more, key)
}

// NewState starts with no Service.
func NewState(cfg *Config) *State {
	return &State{cfg: cfg, contribs: map[string]*Contribution{}, pending: map[string]*Contribution{},
		elems: map[string]map[string]*owners{}, dispatch: map[dispatch]int{}, chains: map[string]*nft.Chain{},
		sets: map[string]*nft.Set{}, stale: map[string]time.Time{}, needFull: true}
}

// Set records a service port's new contribution (nil: the port is gone).
func (s *State) Set(key string, c *Contribution) {
	if c == nil && s.contribs[key] == nil {
		delete(s.pending, key)
		return
	}
	s.pending[key] = c
}

// Len is the number of service ports with a contribution.
func (s *State) Len() int { return len(s.contribs) }

// NeedFull reports whether only a full replacement can bring the kernel in
// line (at start, after a failed transaction, after a set changed type).
func (s *State) NeedFull() bool { return s.needFull }

// Failed says the last transaction did not apply: the next one must be full.
func (s *State) Failed() { s.needFull = true }

// HasStale reports whether chains wait to be deleted.
func (s *State) HasStale() bool { return len(s.stale) > 0 }

// Full applies the pending changes and returns the transaction that replaces
// the whole table.
func (s *State) Full() *nft.Tx { return nft.Replace(s.FullTable()) }

// FullTable applies the pending changes and returns the whole table; the
// kernel is then taken to hold it.
func (s *State) FullTable() *nft.Table {
	for key, c := range s.pending {
		s.merge(key, c, nil)
	}
	clear(s.pending)
	t := Base(s.cfg)
	for d, n := range s.dispatch {
		if n <= 0 {
			continue
		}
		if set := s.cfg.dispatchSet(d); set != nil {
			t.AddSet(set)
		}
		t.AddChain(s.cfg.dispatchChain(d))
	}
	for _, set := range s.sets {
		t.AddSet(&nft.Set{Name: set.Name, Key: set.Key, Data: set.Data, Verdict: set.Verdict, Timeout: set.Timeout, Comment: set.Comment})
	}
	for _, c := range s.chains {
		t.AddChain(c)
	}
	for setName, byKey := range s.elems {
		set := t.Sets[setName]
		for key, o := range byKey {
			e := o.desired()
			o.applied = e
			if e == nil {
				delete(byKey, key)
				continue
			}
			if set != nil {
				set.Elements[key] = *e
			}
		}
	}
	clear(s.stale)
	s.needFull = false
	return t
}

// Changes applies the pending changes and returns the transaction that makes
// the kernel's table match, given it matched before.
func (s *State) Changes(now time.Time) *nft.Tx {
	if s.needFull {
		return s.Full()
	}
	ch := &changes{touched: map[string]map[string]bool{}, dispatchBefore: map[dispatch]bool{}}
	for d, n := range s.dispatch {
		ch.dispatchBefore[d] = n > 0
	}
	for _, key := range sortedKeys(s.pending) {
		s.merge(key, s.pending[key], ch)
	}
	clear(s.pending)
	if s.needFull {
		return s.Full()
	}
	tx := nft.NewTx(s.cfg.Family, s.cfg.Table)

	var newDispatch, goneDispatch []dispatch
	for d, n := range s.dispatch {
		switch {
		case n > 0 && !ch.dispatchBefore[d]:
			newDispatch = append(newDispatch, d)
		case n <= 0 && ch.dispatchBefore[d]:
			goneDispatch = append(goneDispatch, d)
			delete(s.dispatch, d)
		case n <= 0:
			delete(s.dispatch, d)
		}
	}
	sortDispatch(newDispatch)
	sortDispatch(goneDispatch)

	// Declarations first, then chains, then rules, so everything a rule or
	// element refers to exists.
	for _, d := range newDispatch {
		if set := s.cfg.dispatchSet(d); set != nil {
			tx.AddSet(set)
		}
	}
	for _, set := range ch.newSets {
		tx.AddSet(set)
	}
	var created []*nft.Chain
	for _, d := range newDispatch {
		created = append(created, s.cfg.dispatchChain(d))
	}
	created = append(created, ch.newChains...)
	for _, c := range created {
		delete(s.stale, c.Name)
		tx.AddChain(c)
	}
	for _, c := range created {
		tx.AddRules(c)
	}
	for _, c := range ch.changedChains {
		tx.FlushChain(c.Name)
		tx.AddRules(c)
	}

	// Elements: removals before additions, so a changed value is replaced.
	var adds, dels []SetElement
	for _, setName := range sortedKeys(ch.touched) {
		byKey := s.elems[setName]
		for _, key := range sortedKeys(ch.touched[setName]) {
			o := byKey[key]
			if o == nil {
				continue
			}
			want := o.desired()
			if sameElement(o.applied, want) {
				if want == nil {
					delete(byKey, key)
				}
				continue
			}
			if o.applied != nil {
				dels = append(dels, SetElement{Set: setName, Element: *o.applied, key: key})
			}
			if want != nil {
				adds = append(adds, SetElement{Set: setName, Element: *want, key: key})
			}
			o.applied = want
			if want == nil {
				delete(byKey, key)
			}
		}
	}
	// A map deleted below takes its elements with it.
	gone := map[string]bool{}
	for _, d := range goneDispatch {
		gone[d.name()] = true
	}
	dels = slices.DeleteFunc(dels, func(e SetElement) bool { return gone[e.Set] })
	s.emitElements(tx, dels, false)
	s.emitElements(tx, adds, true)

	// What is gone: chains are emptied now and deleted later; sets can go
	// once no rule refers to them.
	for _, name := range ch.goneChains {
		tx.FlushChain(name)
		s.stale[name] = now
	}
	for _, d := range goneDispatch {
		tx.FlushChain(d.name())
		s.stale[d.name()] = now
	}
	for _, set := range ch.goneSets {
		tx.DeleteSet(set)
	}
	for _, d := range goneDispatch {
		if set := s.cfg.dispatchSet(d); set != nil {
			tx.DeleteSet(set)
		}
	}
	for _, name := range sortedKeys(s.stale) {
		if now.Sub(s.stale[name]) >= StaleChainDelay {
			tx.DeleteChain(name)
			delete(s.stale, name)
		}
	}
	return tx
}

// emitElements groups elements by set into the transaction.
func (s *State) emitElements(tx *nft.Tx, elems []SetElement, add bool) {
	if s.base == nil {
		s.base = Base(s.cfg)
	}
	bySet := map[string][]nft.Element{}
	var order []string
	for _, e := range elems {
		if _, ok := bySet[e.Set]; !ok {
			order = append(order, e.Set)
		}
		bySet[e.Set] = append(bySet[e.Set], e.Element)
	}
	for _, name := range order {
		set := s.base.Sets[name]
		if set == nil {
			if d, ok := parseDispatch(name); ok {
				set = s.cfg.dispatchSet(d)
			}
		}
		if set == nil {
			continue
		}
		if add {
			tx.AddElements(set, bySet[name])
		} else {
			tx.DeleteElements(set, bySet[name])
		}
	}
}

// changes collects what merging pending contributions did.
type changes struct {
	touched        map[string]map[string]bool
	dispatchBefore map[dispatch]bool
	newSets        []*nft.Set
	goneSets       []*nft.Set
	newChains      []*nft.Chain
	changedChains  []*nft.Chain
	goneChains     []string
}

func (ch *changes) touch(set, key string) {
	if ch == nil {
		return
	}
	if ch.touched[set] == nil {
		ch.touched[set] = map[string]bool{}
	}
	ch.touched[set][key] = true
}

// merge replaces a key's contribution with c and records what changed.
func (s *State) merge(key string, c *Contribution, ch *changes) {
	old := s.contribs[key]
	if old != nil {
		for _, e := range old.Elements {
			if o := s.elems[e.Set][e.key]; o != nil {
				o.remove(key)
				ch.touch(e.Set, e.key)
			}
		}
		for _, d := range uniqueDispatch(old.Dispatch) {
			s.dispatch[d]--
		}
	}
	if c != nil {
		for _, e := range c.Elements {
			byKey := s.elems[e.Set]
			if byKey == nil {
				byKey = map[string]*owners{}
				s.elems[e.Set] = byKey
			}
			o := byKey[e.key]
			if o == nil {
				o = &owners{}
				byKey[e.key] = o
			}
			o.set(key, e.Element)
			ch.touch(e.Set, e.key)
		}
		for _, d := range uniqueDispatch(c.Dispatch) {
			s.dispatch[d]++
		}
		s.contribs[key] = c
	} else {
		delete(s.contribs, key)
	}

	// Chains and sets of its own.
	oldChains, newChains := map[string]*nft.Chain{}, map[string]*nft.Chain{}
	oldSets, newSets := map[string]*nft.Set{}, map[string]*nft.Set{}
	if old != nil {
		for _, x := range old.Chains {
			oldChains[x.Name] = x
		}
		for _, x := range old.Sets {
			oldSets[x.Name] = x
		}
	}
	if c != nil {
		for _, x := range c.Chains {
			newChains[x.Name] = x
		}
		for _, x := range c.Sets {
			newSets[x.Name] = x
		}
	}
	for _, name := range sortedKeys(newSets) {
		set := newSets[name]
		if prev, ok := s.sets[name]; ok {
			if !sameDecl(prev, set) {
				// Changing a set's type means recreating it under its rules.
				s.needFull = true
			}
		} else if ch != nil {
			ch.newSets = append(ch.newSets, set)
		}
		s.sets[name] = set
	}
	for _, name := range sortedKeys(oldSets) {
		if _, keep := newSets[name]; !keep {
			if ch != nil {
				ch.goneSets = append(ch.goneSets, s.sets[name])
			}
			delete(s.sets, name)
		}
	}
	for _, name := range sortedKeys(newChains) {
		c := newChains[name]
		prev, ok := s.chains[name]
		switch {
		case !ok && ch != nil:
			ch.newChains = append(ch.newChains, c)
		case ok && ch != nil && !sameRules(prev, c, s.cfg.Family):
			ch.changedChains = append(ch.changedChains, c)
		}
		s.chains[name] = c
	}
	for _, name := range sortedKeys(oldChains) {
		if _, keep := newChains[name]; !keep {
			if ch != nil {
				ch.goneChains = append(ch.goneChains, name)
			}
			delete(s.chains, name)
		}
	}
}

// desired is the element the kernel should have: the one of the first owner
// by name, so that two Services claiming one address and port resolve the
// same way every time.
func (o *owners) desired() *nft.Element {
	if !o.hasOne {
		return nil
	}
	first, e := o.oneKey, o.one
	for k, x := range o.more {
		if k < first {
			first, e = k, x
		}
	}
	return &e
}

func sameElement(a, b *nft.Element) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ValueText() == b.ValueText() && a.Comment == b.Comment
}

func sameDecl(a, b *nft.Set) bool { return declOf(a) == declOf(b) }

func declOf(s *nft.Set) string {
	t := nft.NewTable(0, "x")
	t.AddSet(&nft.Set{Name: s.Name, Key: s.Key, Data: s.Data, Verdict: s.Verdict, Timeout: s.Timeout, Comment: s.Comment})
	return t.String()
}

func sameRules(a, b *nft.Chain, f nft.Family) bool {
	if len(a.Rules) != len(b.Rules) {
		return false
	}
	for i := range a.Rules {
		if a.Rules[i].Text(f) != b.Rules[i].Text(f) {
			return false
		}
	}
	return true
}

func uniqueDispatch(ds []dispatch) []dispatch {
	out := slices.Clone(ds)
	sortDispatch(out)
	return slices.Compact(out)
}

func sortDispatch(ds []dispatch) {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].kind != ds[j].kind {
			return ds[i].kind < ds[j].kind
		}
		return ds[i].n < ds[j].n
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
