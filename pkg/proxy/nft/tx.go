package nft

// OpKind is what one operation of a transaction does.
type OpKind int

const (
	OpAddTable OpKind = iota
	OpDeleteTable
	OpAddChain
	OpFlushChain
	OpDeleteChain
	OpAddRule
	OpAddSet
	OpDeleteSet
	OpAddElements
	OpDeleteElements
)

// Op is one operation. Name is the chain or set it applies to.
type Op struct {
	Kind     OpKind
	Name     string
	Chain    *Chain
	Rule     *Rule
	Set      *Set
	Elements []Element
}

// Tx is an ordered list of operations on one table, applied atomically.
type Tx struct {
	Family Family
	Table  string
	Ops    []Op
}

// NewTx starts a transaction on a table.
func NewTx(f Family, table string) *Tx { return &Tx{Family: f, Table: table} }

// Empty reports whether the transaction does nothing.
func (tx *Tx) Empty() bool { return len(tx.Ops) == 0 }

func (tx *Tx) add(op Op) { tx.Ops = append(tx.Ops, op) }

// AddChain creates the chain if it does not exist; rules come with AddRule.
func (tx *Tx) AddChain(c *Chain) { tx.add(Op{Kind: OpAddChain, Name: c.Name, Chain: c}) }

// FlushChain removes the chain's rules.
func (tx *Tx) FlushChain(name string) { tx.add(Op{Kind: OpFlushChain, Name: name}) }

// DeleteChain removes an empty, unreferenced chain.
func (tx *Tx) DeleteChain(name string) { tx.add(Op{Kind: OpDeleteChain, Name: name}) }

// AddRule appends a rule to a chain.
func (tx *Tx) AddRule(chain string, r Rule) { tx.add(Op{Kind: OpAddRule, Name: chain, Rule: &r}) }

// AddRules appends a chain's rules.
func (tx *Tx) AddRules(c *Chain) {
	for i := range c.Rules {
		tx.AddRule(c.Name, c.Rules[i])
	}
}

// AddSet declares a set (its elements come with AddElements).
func (tx *Tx) AddSet(s *Set) { tx.add(Op{Kind: OpAddSet, Name: s.Name, Set: s}) }

// DeleteSet removes a set no rule refers to any more.
func (tx *Tx) DeleteSet(s *Set) { tx.add(Op{Kind: OpDeleteSet, Name: s.Name, Set: s}) }

// AddElements adds elements to a set; set gives their types.
func (tx *Tx) AddElements(s *Set, elems []Element) {
	if len(elems) > 0 {
		tx.add(Op{Kind: OpAddElements, Name: s.Name, Set: s, Elements: elems})
	}
}

// DeleteElements removes elements (by key) from a set.
func (tx *Tx) DeleteElements(s *Set, elems []Element) {
	if len(elems) > 0 {
		tx.add(Op{Kind: OpDeleteElements, Name: s.Name, Set: s, Elements: elems})
	}
}

// Replace returns the transaction that swaps whatever table of that name
// exists for t: creating it first makes the delete succeed either way, and
// in one transaction nothing ever sees the table missing.
func Replace(t *Table) *Tx {
	tx := NewTx(t.Family, t.Name)
	tx.add(Op{Kind: OpAddTable})
	tx.add(Op{Kind: OpDeleteTable})
	tx.add(Op{Kind: OpAddTable})
	Populate(tx, t)
	return tx
}

// Populate adds t's sets, chains, elements and rules to tx, in the order the
// kernel needs: chains exist before a verdict map's elements name them, and
// elements are in before rules bind their sets (binding checks every element).
func Populate(tx *Tx, t *Table) {
	for _, name := range sortedKeys(t.Sets) {
		tx.AddSet(t.Sets[name])
	}
	chains := t.orderedChains()
	for _, c := range chains {
		tx.AddChain(c)
	}
	for _, name := range sortedKeys(t.Sets) {
		s := t.Sets[name]
		tx.AddElements(s, s.SortedElements())
	}
	for _, c := range chains {
		tx.AddRules(c)
	}
}

// Delete returns the transaction that removes the table if it exists.
func Delete(f Family, name string) *Tx {
	tx := NewTx(f, name)
	tx.add(Op{Kind: OpAddTable})
	tx.add(Op{Kind: OpDeleteTable})
	return tx
}

// SortedElements lists the set's elements by key.
func (s *Set) SortedElements() []Element {
	keys := sortedKeys(s.Elements)
	out := make([]Element, len(keys))
	for i, k := range keys {
		out[i] = s.Elements[k]
	}
	return out
}
