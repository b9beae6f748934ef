package nft

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Expr is one part of a rule: a match, a statement or a verdict. Each knows
// its nft syntax and the kernel expressions it stands for.
type Expr interface {
	text(f Family) string
	build(b *builder)
}

// builder collects the kernel expressions of one rule.
type builder struct {
	f     Family
	exprs []expr.Any
}

func (b *builder) add(e ...expr.Any) { b.exprs = append(b.exprs, e...) }

// Registers: 1 is the first 128-bit register, which the kernel also names
// 32-bit registers 8-11; concatenations fill 32-bit registers from 8 on.
const (
	reg1    = 1
	reg32_0 = 8
)

// Key is a packet field loaded as part of a lookup key.
type Key int

const (
	Saddr Key = iota
	Daddr
	L4Proto
	Dport
)

// NumgenKey is a key part drawn at random from 0 to N-1.
type NumgenKey int

func keyText(f Family, k any) string {
	switch k := k.(type) {
	case Key:
		switch k {
		case Saddr:
			return f.String() + " saddr"
		case Daddr:
			return f.String() + " daddr"
		case L4Proto:
			return "meta l4proto"
		case Dport:
			return "th dport"
		}
	case NumgenKey:
		return fmt.Sprintf("numgen random mod %d", int(k))
	}
	panic(fmt.Sprintf("unknown key %v", k))
}

// addrOffset is where an address is in the network header.
func addrOffset(f Family, src bool) uint32 {
	switch {
	case f == IPv6 && src:
		return 8
	case f == IPv6:
		return 24
	case src:
		return 12
	}
	return 16
}

// loadKeys loads key parts into consecutive registers from 8 and returns
// the first register.
func (b *builder) loadKeys(keys []any) uint32 {
	reg := uint32(reg32_0)
	for _, k := range keys {
		switch k := k.(type) {
		case Key:
			switch k {
			case Saddr, Daddr:
				b.add(&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader,
					Offset: addrOffset(b.f, k == Saddr), Len: uint32(b.f.AddrLen())})
				reg += regSize(b.f.AddrLen())
			case L4Proto:
				b.add(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg})
				reg++
			case Dport:
				b.add(&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
				reg++
			}
		case NumgenKey:
			b.add(&expr.Numgen{Register: reg, Modulus: uint32(k), Type: unix.NFT_NG_RANDOM})
			reg++
		}
	}
	return reg32_0
}

func keysText(f Family, keys []any) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = keyText(f, k)
	}
	return strings.Join(parts, " . ")
}

// MatchAddr matches the source or destination address against a prefix
// (a single address is a full-length prefix).
type MatchAddr struct {
	Src    bool
	Not    bool
	Prefix netip.Prefix
}

func (m MatchAddr) text(f Family) string {
	k := Daddr
	if m.Src {
		k = Saddr
	}
	v := m.Prefix.String()
	if m.Prefix.IsSingleIP() {
		v = m.Prefix.Addr().String()
	}
	if m.Not {
		return keyText(f, k) + " != " + v
	}
	return keyText(f, k) + " " + v
}

func (m MatchAddr) build(b *builder) {
	n := b.f.AddrLen()
	b.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: addrOffset(b.f, m.Src), Len: uint32(n)})
	want := m.Prefix.Masked().Addr().AsSlice()
	if bits := m.Prefix.Bits(); bits < n*8 {
		mask := make([]byte, n)
		for i := 0; i < bits; i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		b.add(&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: uint32(n), Mask: mask, Xor: make([]byte, n)})
	}
	op := expr.CmpOpEq
	if m.Not {
		op = expr.CmpOpNeq
	}
	b.add(&expr.Cmp{Op: op, Register: reg1, Data: want})
}

// MatchProto matches the transport protocol.
type MatchProto struct{ Proto Proto }

func (m MatchProto) text(Family) string { return "meta l4proto " + m.Proto.text() }
func (m MatchProto) build(b *builder) {
	b.add(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{byte(m.Proto)}})
}

// MatchPort matches the transport protocol and a destination port, or the
// range Port..End when End is above Port (a NetworkPolicy's endPort).
type MatchPort struct {
	Proto     Proto
	Port, End uint16
}

func (m MatchPort) text(Family) string {
	s := "meta l4proto " + m.Proto.text() + " th dport " + strconv.Itoa(int(m.Port))
	if m.End > m.Port {
		s += "-" + strconv.Itoa(int(m.End))
	}
	return s
}

func (m MatchPort) build(b *builder) {
	b.add(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{byte(m.Proto)}},
		&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
	if m.End > m.Port {
		b.add(&expr.Range{Op: expr.CmpOpEq, Register: reg1,
			FromData: binaryutil.BigEndian.PutUint16(m.Port), ToData: binaryutil.BigEndian.PutUint16(m.End)})
		return
	}
	b.add(&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binaryutil.BigEndian.PutUint16(m.Port)})
}

// Lookup matches when the key is (Not: is not) in a set.
type Lookup struct {
	Keys []any
	Set  string
	Not  bool
}

func (l Lookup) text(f Family) string {
	if l.Not {
		return keysText(f, l.Keys) + " != @" + l.Set
	}
	return keysText(f, l.Keys) + " @" + l.Set
}

func (l Lookup) build(b *builder) {
	src := b.loadKeys(l.Keys)
	b.add(&expr.Lookup{SourceRegister: src, SetName: l.Set, Invert: l.Not})
}

// VMap jumps where a verdict map says for the key; no element, no verdict.
type VMap struct {
	Keys []any
	Map  string
}

func (v VMap) text(f Family) string { return keysText(f, v.Keys) + " vmap @" + v.Map }
func (v VMap) build(b *builder) {
	src := b.loadKeys(v.Keys)
	b.add(&expr.Lookup{SourceRegister: src, SetName: v.Map, DestRegister: 0, IsDestRegSet: true})
}

// DNATMap rewrites the destination to the address and port a map gives for
// the key. The rule needs a protocol match before it.
type DNATMap struct {
	Keys []any
	Map  string
}

func (d DNATMap) text(f Family) string {
	return fmt.Sprintf("dnat %s to %s map @%s", f, keysText(f, d.Keys), d.Map)
}

func (d DNATMap) build(b *builder) {
	src := b.loadKeys(d.Keys)
	b.add(&expr.Lookup{SourceRegister: src, SetName: d.Map, DestRegister: reg32_0, IsDestRegSet: true})
	b.add(&expr.NAT{Type: expr.NATTypeDestNAT, Family: b.f.nfproto(), RegAddrMin: reg32_0,
		RegProtoMin: reg32_0 + regSize(b.f.AddrLen())})
}

// DNAT rewrites the destination to one address and port. The rule needs a
// protocol match before it.
type DNAT struct {
	Addr netip.Addr
	Port uint16
}

func (d DNAT) text(Family) string {
	return "dnat to " + netip.AddrPortFrom(d.Addr, d.Port).String()
}

func (d DNAT) build(b *builder) {
	b.add(&expr.Immediate{Register: 1, Data: d.Addr.AsSlice()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(d.Port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: b.f.nfproto(), RegAddrMin: 1, RegProtoMin: 2, Specified: true})
}

// Conntrack states and statuses the rules test.
const (
	CtStateEstablished = 0x02
	CtStateRelated     = 0x04
	CtStateNew         = 0x08
	ctStatusDNAT       = 0x20
)

// CtState matches when the connection's state is one of Mask (Not: none of them).
type CtState struct {
	Mask uint32
	Not  bool
}

func ctStateNames(mask uint32) []string {
	var names []string
	for _, s := range []struct {
		bit  uint32
		name string
	}{{CtStateEstablished, "established"}, {CtStateRelated, "related"}, {CtStateNew, "new"}} {
		if mask&s.bit != 0 {
			names = append(names, s.name)
		}
	}
	return names
}

func (c CtState) text(Family) string {
	names := ctStateNames(c.Mask)
	if c.Not {
		return "ct state & (" + strings.Join(names, " | ") + ") == 0"
	}
	return "ct state " + strings.Join(names, ",")
}

func (c CtState) build(b *builder) {
	op := expr.CmpOpNeq
	if c.Not {
		op = expr.CmpOpEq
	}
	b.add(&expr.Ct{Key: expr.CtKeySTATE, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(c.Mask), Xor: make([]byte, 4)},
		&expr.Cmp{Op: op, Register: reg1, Data: make([]byte, 4)})
}

// CtDNAT matches connections whose destination was rewritten (Not: was not).
type CtDNAT struct{ Not bool }

func (c CtDNAT) text(Family) string {
	if c.Not {
		return "ct status & dnat == 0"
	}
	return "ct status dnat"
}

func (c CtDNAT) build(b *builder) {
	op := expr.CmpOpNeq
	if c.Not {
		op = expr.CmpOpEq
	}
	b.add(&expr.Ct{Key: expr.CtKeySTATUS, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ctStatusDNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: op, Register: reg1, Data: make([]byte, 4)})
}

// FibLocal matches when the source or destination is an address of this host.
type FibLocal struct{ Src bool }

func (l FibLocal) text(Family) string {
	if l.Src {
		return "fib saddr type local"
	}
	return "fib daddr type local"
}

func (l FibLocal) build(b *builder) {
	b.add(&expr.Fib{Register: reg1, ResultADDRTYPE: true, FlagSADDR: l.Src, FlagDADDR: !l.Src},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)})
}

// MarkClear matches packets without any of the mark's bits in Mask.
type MarkClear struct{ Mask uint32 }

func (m MarkClear) text(Family) string { return fmt.Sprintf("mark and %#x == 0", m.Mask) }
func (m MarkClear) build(b *builder) {
	b.add(&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(m.Mask), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: make([]byte, 4)})
}

// MarkOr sets bits of the packet mark; MarkXor flips them.
type (
	MarkOr  struct{ Bits uint32 }
	MarkXor struct{ Bits uint32 }
)

func (m MarkOr) text(Family) string  { return fmt.Sprintf("mark set mark or %#x", m.Bits) }
func (m MarkXor) text(Family) string { return fmt.Sprintf("mark set mark xor %#x", m.Bits) }
func (m MarkOr) build(b *builder)    { setMark(b, ^m.Bits, m.Bits) }
func (m MarkXor) build(b *builder)   { setMark(b, 0xffffffff, m.Bits) }

// setMark sets mark = (mark & and) ^ xor.
func setMark(b *builder, and, xor uint32) {
	b.add(&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(and), Xor: binaryutil.NativeEndian.PutUint32(xor)},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: reg1})
}

// OneIn matches one packet in N at random.
type OneIn struct{ N int }

func (o OneIn) text(Family) string { return fmt.Sprintf("numgen random mod %d 0", o.N) }
func (o OneIn) build(b *builder) {
	b.add(&expr.Numgen{Register: reg1, Modulus: uint32(o.N), Type: unix.NFT_NG_RANDOM},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: make([]byte, 4)})
}

// UpdateSaddr adds the source address to a set with a timeout, or renews it.
type UpdateSaddr struct{ Set string }

func (u UpdateSaddr) text(f Family) string { return fmt.Sprintf("update @%s { %s saddr }", u.Set, f) }
func (u UpdateSaddr) build(b *builder) {
	b.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: addrOffset(b.f, true), Len: uint32(b.f.AddrLen())},
		&expr.Dynset{SrcRegKey: reg1, SetName: u.Set, Operation: unix.NFT_DYNSET_OP_UPDATE})
}

// Masquerade rewrites the source to the outgoing interface's address, with
// fully random source ports.
type Masquerade struct{}

func (Masquerade) text(Family) string { return "masquerade fully-random" }
func (Masquerade) build(b *builder)   { b.add(&expr.Masq{FullyRandom: true}) }

// Reject answers with ICMP port unreachable (TCP too, as kube-proxy does).
type Reject struct{}

func (Reject) text(Family) string { return "reject" }
func (Reject) build(b *builder) {
	code := uint8(3) // ICMP_PORT_UNREACH
	if b.f == IPv6 {
		code = 4 // ICMPV6_PORT_UNREACH
	}
	b.add(&expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: code})
}

// Verdict ends the rule: jump, goto, drop, return or accept.
type Verdict struct {
	Kind  expr.VerdictKind
	Chain string
}

// Verdict constructors.
func Jump(c string) Verdict { return Verdict{Kind: expr.VerdictJump, Chain: c} }
func Goto(c string) Verdict { return Verdict{Kind: expr.VerdictGoto, Chain: c} }

var (
	Drop   = Verdict{Kind: expr.VerdictDrop}
	Return = Verdict{Kind: expr.VerdictReturn}
	Accept = Verdict{Kind: expr.VerdictAccept}
)

func (v Verdict) text(Family) string {
	switch v.Kind {
	case expr.VerdictJump:
		return "jump " + v.Chain
	case expr.VerdictGoto:
		return "goto " + v.Chain
	case expr.VerdictDrop:
		return "drop"
	case expr.VerdictReturn:
		return "return"
	case expr.VerdictAccept:
		return "accept"
	}
	return fmt.Sprintf("verdict(%d)", v.Kind)
}

func (v Verdict) build(b *builder) { b.add(&expr.Verdict{Kind: v.Kind, Chain: v.Chain}) }
