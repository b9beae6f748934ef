package sim

import (
	"fmt"
	"net/netip"
)

// Simulated nodes take their addresses from ranges no real network hands out, so
// they never collide with a cluster's pod network or a machine's own addresses.
// Slot k of the pod range gives a node its pod CIDR (a /24) and, with the same k,
// its InternalIP.
var (
	// podRange is the shared address space of RFC 6598: 16,384 /24s.
	podRange = netip.MustParsePrefix("100.64.0.0/10")
	// nodeRange is the benchmarking range of RFC 2544.
	nodeRange = netip.MustParsePrefix("198.18.0.0/15")
)

// MaxNodes is how many simulated nodes fit: one /24 of podRange each.
const MaxNodes = 1 << (24 - 10)

// MaxPodsPerNode is how many pod addresses a node's /24 holds: .0 is the network,
// .1 the gateway a real bridge would have, .255 the broadcast address.
const MaxPodsPerNode = 253

// PodCIDR is slot k's pod range.
func PodCIDR(k int) (netip.Prefix, error) {
	if k < 0 || k >= MaxNodes {
		return netip.Prefix{}, fmt.Errorf("slot %d is outside 0..%d", k, MaxNodes-1)
	}
	return netip.PrefixFrom(addrAdd(podRange.Addr(), uint32(k)<<8), 24), nil
}

// InternalIP is slot k's node address.
func InternalIP(k int) (netip.Addr, error) {
	if k < 0 || k >= MaxNodes {
		return netip.Addr{}, fmt.Errorf("slot %d is outside 0..%d", k, MaxNodes-1)
	}
	return addrAdd(nodeRange.Addr(), uint32(k)+1), nil
}

// SlotOf returns the slot whose pod range is cidr, or false when cidr is not one.
func SlotOf(cidr string) (int, bool) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || p.Bits() != 24 || !p.Addr().Is4() || !podRange.Contains(p.Addr()) || p.Masked() != p {
		return 0, false
	}
	return int((addrUint(p.Addr()) - addrUint(podRange.Addr())) >> 8), true
}

// FreeSlots returns the n lowest slots not in used.
func FreeSlots(used map[int]bool, n int) ([]int, error) {
	out := make([]int, 0, n)
	for k := 0; k < MaxNodes && len(out) < n; k++ {
		if !used[k] {
			out = append(out, k)
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("only %d more simulated nodes fit (at most %d in all: one /24 of %s each)", len(out), MaxNodes, podRange)
	}
	return out, nil
}

func addrUint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrAdd(a netip.Addr, n uint32) netip.Addr {
	v := addrUint(a) + n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
