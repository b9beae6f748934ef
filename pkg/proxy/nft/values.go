package nft

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"golang.org/x/sys/unix"
)

// Type is one component of a set's key or a map's data.
type Type struct {
	// Name is nft's type name ("ipv4_addr"); empty when nft has no name for
	// it and the declaration must use typeof.
	Name string
	// Typeof is the expression whose type it is ("ip daddr").
	Typeof string
	len    int
	dt     nftables.SetDatatype
}

// AddrType is an address of the family; of names the expression for typeof.
func AddrType(f Family, of string) Type {
	if f == IPv6 {
		return Type{Name: "ipv6_addr", Typeof: "ip6 " + of, len: 16, dt: nftables.TypeIP6Addr}
	}
	return Type{Name: "ipv4_addr", Typeof: "ip " + of, len: 4, dt: nftables.TypeIPAddr}
}

// ProtoType is a transport protocol number.
var ProtoType = Type{Name: "inet_proto", Typeof: "meta l4proto", len: 1, dt: nftables.TypeInetProto}

// PortType is a transport port.
var PortType = Type{Name: "inet_service", Typeof: "th dport", len: 2, dt: nftables.TypeInetService}

// SlotType is the number numgen draws, 0 to n-1. nft has no name for a bare
// integer type, so the kernel set says mark (same size), which keeps `nft list`
// able to print a table this package made.
func SlotType(n int) Type {
	return Type{Typeof: fmt.Sprintf("numgen random mod %d", n), len: 4, dt: nftables.TypeMark}
}

func datatype(ts []Type) nftables.SetDatatype {
	if len(ts) == 1 {
		return ts[0].dt
	}
	dts := make([]nftables.SetDatatype, len(ts))
	for i, t := range ts {
		dts[i] = t.dt
	}
	dt, err := nftables.ConcatSetType(dts...)
	if err != nil {
		// At most three components are ever declared here.
		panic(err)
	}
	return dt
}

// Value is one component of an element's key or data.
type Value interface {
	text() string
	bytes() []byte
}

// Addr is an address value.
type Addr netip.Addr

func (a Addr) text() string  { return netip.Addr(a).String() }
func (a Addr) bytes() []byte { return netip.Addr(a).AsSlice() }

// Proto is a transport protocol value.
type Proto uint8

// The transport protocols Services use.
const (
	TCP  Proto = unix.IPPROTO_TCP
	UDP  Proto = unix.IPPROTO_UDP
	SCTP Proto = unix.IPPROTO_SCTP
)

func (p Proto) text() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}
func (p Proto) bytes() []byte { return []byte{byte(p)} }

// Port is a transport port value.
type Port uint16

func (p Port) text() string  { return strconv.Itoa(int(p)) }
func (p Port) bytes() []byte { return binaryutil.BigEndian.PutUint16(uint16(p)) }

// Slot is a numgen result; numgen writes it in host byte order.
type Slot uint32

func (s Slot) text() string  { return strconv.Itoa(int(s)) }
func (s Slot) bytes() []byte { return binaryutil.NativeEndian.PutUint32(uint32(s)) }

// encode lays out a key or data the way the kernel compares registers: in a
// concatenation every component starts on a 4-byte boundary.
func encode(vs []Value) []byte {
	if len(vs) == 1 {
		return vs[0].bytes()
	}
	var b []byte
	for _, v := range vs {
		part := v.bytes()
		b = append(b, part...)
		if pad := len(part) % 4; pad != 0 {
			b = append(b, make([]byte, 4-pad)...)
		}
	}
	return b
}

// regSize is the number of 32-bit registers a component of n bytes takes.
func regSize(n int) uint32 { return uint32((n + 3) / 4) }
