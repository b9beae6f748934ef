package netpol

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/nftables/expr"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// packet is the first packet of a connection (or a later one, established)
// as the node's hooks see it.
type packet struct {
	src, dst    string
	proto       nft.Proto
	port        uint16
	toHost      bool // the node is the destination: the input hook, not forward
	established bool
}

// allowed runs the packet through the table the way the kernel would, for
// the expressions Build uses.
func allowed(t *testing.T, tbl *nft.Table, p packet) bool {
	t.Helper()
	e := &evaluator{t: t, tbl: tbl, p: p, src: netip.MustParseAddr(p.src), dst: netip.MustParseAddr(p.dst)}
	chain := chainForward
	if p.toHost {
		chain = chainInput
	}
	return e.run(chain, 0) != outcomeDrop
}

type outcome int

const (
	outcomeContinue outcome = iota
	outcomeAccept
	outcomeDrop
)

type evaluator struct {
	t        *testing.T
	tbl      *nft.Table
	p        packet
	src, dst netip.Addr
}

func (e *evaluator) run(name string, depth int) outcome {
	c, ok := e.tbl.Chains[name]
	if !ok || depth > 16 {
		e.t.Fatalf("chain %q missing or loops", name)
	}
rules:
	for _, r := range c.Rules {
		for _, x := range r.Exprs {
			var v *nft.Verdict
			switch x := x.(type) {
			case nft.Verdict:
				v = &x
			case nft.VMap:
				el, ok := e.tbl.Sets[x.Map].Elements[e.keyText(x.Keys)]
				if !ok {
					continue rules
				}
				v = el.Verdict
			default:
				if !e.matches(x) {
					continue rules
				}
				continue
			}
			switch v.Kind {
			case expr.VerdictAccept:
				return outcomeAccept
			case expr.VerdictDrop:
				return outcomeDrop
			case expr.VerdictReturn:
				return outcomeContinue
			case expr.VerdictGoto:
				return e.run(v.Chain, depth+1)
			case expr.VerdictJump:
				if o := e.run(v.Chain, depth+1); o != outcomeContinue {
					return o
				}
				continue rules
			}
		}
	}
	return outcomeContinue
}

func (e *evaluator) matches(x nft.Expr) bool {
	switch x := x.(type) {
	case nft.CtState:
		state := uint32(nft.CtStateNew)
		if e.p.established {
			state = nft.CtStateEstablished
		}
		return (state&x.Mask != 0) != x.Not
	case nft.MatchAddr:
		a := e.dst
		if x.Src {
			a = e.src
		}
		return x.Prefix.Contains(a) != x.Not
	case nft.MatchProto:
		return x.Proto == e.p.proto
	case nft.MatchPort:
		end := x.End
		if end < x.Port {
			end = x.Port
		}
		return x.Proto == e.p.proto && e.p.port >= x.Port && e.p.port <= end
	case nft.Lookup:
		_, ok := e.tbl.Sets[x.Set].Elements[e.keyText(x.Keys)]
		return ok != x.Not
	}
	e.t.Fatalf("the evaluator does not know %T", x)
	return false
}

// keyText renders the packet's key the way elements are indexed.
func (e *evaluator) keyText(keys []any) string {
	var vs []nft.Value
	for _, k := range keys {
		switch k {
		case nft.Saddr:
			vs = append(vs, nft.Addr(e.src))
		case nft.Daddr:
			vs = append(vs, nft.Addr(e.dst))
		case nft.L4Proto:
			vs = append(vs, e.p.proto)
		case nft.Dport:
			vs = append(vs, nft.Port(e.p.port))
		default:
			e.t.Fatalf("the evaluator does not know key %v", k)
		}
	}
	return nft.Element{Key: vs}.KeyText()
}

func (p packet) String() string {
	s := fmt.Sprintf("%s -> %s %d/%d", p.src, p.dst, p.proto, p.port)
	if p.established {
		s += " established"
	}
	return s
}
