package nft

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Family is an nftables address family: ip or ip6.
type Family int

const (
	IPv4 Family = iota
	IPv6
)

func (f Family) String() string {
	if f == IPv6 {
		return "ip6"
	}
	return "ip"
}

// AddrLen is the length of one address of the family.
func (f Family) AddrLen() int {
	if f == IPv6 {
		return 16
	}
	return 4
}

func (f Family) nfproto() uint32 {
	if f == IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// Table is a whole table: what a full sync installs.
type Table struct {
	Family Family
	Name   string
	Chains map[string]*Chain
	Sets   map[string]*Set
}

// NewTable returns an empty table.
func NewTable(f Family, name string) *Table {
	return &Table{Family: f, Name: name, Chains: map[string]*Chain{}, Sets: map[string]*Set{}}
}

// AddChain adds (or replaces) a chain and returns it.
func (t *Table) AddChain(c *Chain) *Chain {
	t.Chains[c.Name] = c
	return c
}

// AddSet adds (or replaces) a set and returns it.
func (t *Table) AddSet(s *Set) *Set {
	if s.Elements == nil {
		s.Elements = map[string]Element{}
	}
	t.Sets[s.Name] = s
	return s
}

// Hook is a netfilter hook a base chain is attached to.
type Hook string

const (
	Prerouting  Hook = "prerouting"
	Input       Hook = "input"
	Forward     Hook = "forward"
	Output      Hook = "output"
	Postrouting Hook = "postrouting"
)

func (h Hook) num() uint32 {
	switch h {
	case Prerouting:
		return unix.NF_INET_PRE_ROUTING
	case Input:
		return unix.NF_INET_LOCAL_IN
	case Forward:
		return unix.NF_INET_FORWARD
	case Output:
		return unix.NF_INET_LOCAL_OUT
	default:
		return unix.NF_INET_POST_ROUTING
	}
}

// Standard priorities, as nft names them.
const (
	PriorityDstNAT = -100
	PriorityFilter = 0
	PrioritySrcNAT = 100
)

// BaseChain says where a base chain hooks in.
type BaseChain struct {
	Type     string // "filter" or "nat"
	Hook     Hook
	Priority int
}

// priorityText renders a priority the way nft prints it for the ip
// families; nft knows dstnat only on prerouting and srcnat on postrouting.
func priorityText(h Hook, p int) string {
	for _, n := range []struct {
		name string
		v    int
	}{{"dstnat", PriorityDstNAT}, {"filter", PriorityFilter}, {"srcnat", PrioritySrcNAT}} {
		if (n.name == "dstnat" && h != Prerouting) || (n.name == "srcnat" && h != Postrouting) {
			continue
		}
		switch {
		case p == n.v:
			return n.name
		case p > n.v-50 && p < n.v:
			return fmt.Sprintf("%s - %d", n.name, n.v-p)
		case p < n.v+50 && p > n.v:
			return fmt.Sprintf("%s + %d", n.name, p-n.v)
		}
	}
	return fmt.Sprint(p)
}

// Chain is a chain and its rules.
type Chain struct {
	Name  string
	Base  *BaseChain
	Rules []Rule
}

// Rule is a sequence of expressions, as nft evaluates them left to right.
type Rule struct {
	Exprs   []Expr
	Comment string
}

// R makes a rule of expressions.
func R(exprs ...Expr) Rule { return Rule{Exprs: exprs} }

// Text renders the rule in nft syntax.
func (r Rule) Text(f Family) string {
	parts := make([]string, 0, len(r.Exprs)+1)
	for _, e := range r.Exprs {
		parts = append(parts, e.text(f))
	}
	if r.Comment != "" {
		parts = append(parts, "comment "+quote(r.Comment))
	}
	return strings.Join(parts, " ")
}

// Set is a set or a map.
type Set struct {
	Name string
	Key  []Type
	// Data is the value type of a map; nil for a set or a verdict map.
	Data []Type
	// Verdict makes the set a verdict map.
	Verdict bool
	// Timeout, when set, gives elements added by the packet path this
	// lifetime (flags dynamic,timeout).
	Timeout time.Duration
	Comment string
	// Elements by their key's text.
	Elements map[string]Element
}

// IsMap reports whether the set maps keys to data or verdicts.
func (s *Set) IsMap() bool { return s.Verdict || len(s.Data) > 0 }

// Add adds an element to the set's description.
func (s *Set) Add(e Element) {
	if s.Elements == nil {
		s.Elements = map[string]Element{}
	}
	s.Elements[e.KeyText()] = e
}

// sameDecl reports whether two sets have the same declaration.
func (s *Set) sameDecl(o *Set) bool {
	return s.declText() == o.declText()
}

// Element is one element of a set or map.
type Element struct {
	Key     []Value
	Data    []Value
	Verdict *Verdict
	Comment string
}

// KeyText renders the key: what identifies the element.
func (e Element) KeyText() string { return concatText(e.Key) }

// ValueText renders what the key maps to ("" for a set element).
func (e Element) ValueText() string {
	switch {
	case e.Verdict != nil:
		return e.Verdict.text(IPv4)
	case len(e.Data) > 0:
		return concatText(e.Data)
	}
	return ""
}

// Text renders the element as it appears in an element list.
func (e Element) Text() string {
	s := e.KeyText()
	if e.Comment != "" {
		s += " comment " + quote(e.Comment)
	}
	if v := e.ValueText(); v != "" {
		s += " : " + v
	}
	return s
}

func concatText(vs []Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.text()
	}
	return strings.Join(parts, " . ")
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `'`) + `"` }

// sortedKeys returns a map's keys in order, so renderings are stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
