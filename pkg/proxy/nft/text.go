package nft

import (
	"fmt"
	"strings"
)

// String renders the table as an nft(8) table block, in a stable order: sets
// by name, then base chains, then the other chains by name.
func (t *Table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %s %s {\n", t.Family, t.Name)
	for _, name := range sortedKeys(t.Sets) {
		s := t.Sets[name]
		fmt.Fprintf(&b, "\t%s %s {\n", s.kind(), s.Name)
		for _, line := range s.declLines() {
			fmt.Fprintf(&b, "\t\t%s\n", line)
		}
		if len(s.Elements) > 0 {
			b.WriteString("\t\telements = {")
			for i, k := range sortedKeys(s.Elements) {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "\n\t\t\t%s", s.Elements[k].Text())
			}
			b.WriteString(" }\n")
		}
		b.WriteString("\t}\n")
	}
	for _, c := range t.orderedChains() {
		fmt.Fprintf(&b, "\tchain %s {\n", c.Name)
		if c.Base != nil {
			fmt.Fprintf(&b, "\t\t%s\n", c.Base.text())
		}
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "\t\t%s\n", r.Text(t.Family))
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// orderedChains lists base chains first, then the rest, each by name.
func (t *Table) orderedChains() []*Chain {
	var base, other []*Chain
	for _, name := range sortedKeys(t.Chains) {
		if c := t.Chains[name]; c.Base != nil {
			base = append(base, c)
		} else {
			other = append(other, c)
		}
	}
	return append(base, other...)
}

func (bc *BaseChain) text() string {
	return fmt.Sprintf("type %s hook %s priority %s; policy accept;", bc.Type, bc.Hook, priorityText(bc.Hook, bc.Priority))
}

func (s *Set) kind() string {
	if s.IsMap() {
		return "map"
	}
	return "set"
}

// declLines are the set's declaration statements.
func (s *Set) declLines() []string {
	typeofNeeded := false
	for _, t := range append(append([]Type{}, s.Key...), s.Data...) {
		if t.Name == "" {
			typeofNeeded = true
		}
	}
	join := func(ts []Type, typeof bool) string {
		parts := make([]string, len(ts))
		for i, t := range ts {
			parts[i] = t.Name
			if typeof {
				parts[i] = t.Typeof
			}
		}
		return strings.Join(parts, " . ")
	}
	decl := "type " + join(s.Key, false)
	if typeofNeeded {
		decl = "typeof " + join(s.Key, true)
	}
	switch {
	case s.Verdict:
		decl += " : verdict"
	case len(s.Data) > 0:
		decl += " : " + join(s.Data, typeofNeeded)
	}
	lines := []string{decl}
	if s.Timeout > 0 {
		lines = append(lines, "flags dynamic,timeout", fmt.Sprintf("timeout %ds", int(s.Timeout.Seconds())))
	}
	if s.Comment != "" {
		lines = append(lines, "comment "+quote(s.Comment))
	}
	return lines
}

// declText is the declaration on one line, as "add set" takes it.
func (s *Set) declText() string {
	return "{ " + strings.Join(s.declLines(), "; ") + "; }"
}

// Script renders the transaction as an nft -f script.
func (tx *Tx) Script() string {
	var b strings.Builder
	fam, tbl := tx.Family.String(), tx.Table
	for _, op := range tx.Ops {
		switch op.Kind {
		case OpAddTable:
			fmt.Fprintf(&b, "add table %s %s\n", fam, tbl)
		case OpDeleteTable:
			fmt.Fprintf(&b, "delete table %s %s\n", fam, tbl)
		case OpAddChain:
			if op.Chain.Base != nil {
				fmt.Fprintf(&b, "add chain %s %s %s { %s }\n", fam, tbl, op.Chain.Name, op.Chain.Base.text())
			} else {
				fmt.Fprintf(&b, "add chain %s %s %s\n", fam, tbl, op.Chain.Name)
			}
		case OpFlushChain:
			fmt.Fprintf(&b, "flush chain %s %s %s\n", fam, tbl, op.Name)
		case OpDeleteChain:
			fmt.Fprintf(&b, "delete chain %s %s %s\n", fam, tbl, op.Name)
		case OpAddRule:
			fmt.Fprintf(&b, "add rule %s %s %s %s\n", fam, tbl, op.Name, op.Rule.Text(tx.Family))
		case OpAddSet:
			fmt.Fprintf(&b, "add %s %s %s %s %s\n", op.Set.kind(), fam, tbl, op.Set.Name, op.Set.declText())
		case OpDeleteSet:
			fmt.Fprintf(&b, "delete %s %s %s %s\n", op.Set.kind(), fam, tbl, op.Set.Name)
		case OpAddElements, OpDeleteElements:
			verb := "add"
			if op.Kind == OpDeleteElements {
				verb = "delete"
			}
			// Long lists are split so a line stays readable and nft's
			// parser never sees one huge statement.
			for start := 0; start < len(op.Elements); start += 1000 {
				end := min(start+1000, len(op.Elements))
				parts := make([]string, 0, end-start)
				for _, e := range op.Elements[start:end] {
					if op.Kind == OpDeleteElements {
						parts = append(parts, e.KeyText())
					} else {
						parts = append(parts, e.Text())
					}
				}
				fmt.Fprintf(&b, "%s element %s %s %s { %s }\n", verb, fam, tbl, op.Name, strings.Join(parts, ", "))
			}
		}
	}
	return b.String()
}
