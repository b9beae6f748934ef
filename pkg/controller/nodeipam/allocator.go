package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// maxSubnetBits caps how many ranges one cluster CIDR is cut into (2^16), as upstream.
const maxSubnetBits = 16

// errFull is returned when every range is taken.
var errFull = errors.New("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")

// allocator hands out the /maskLen ranges of a cluster CIDR. It lives in memory
// and is the single source of truth for which ranges are taken: ranges are
// marked the moment they are chosen, so two nodes registering together never get
// the same one, whatever the informer cache says. Not safe for concurrent use.
type allocator struct {
	cluster netip.Prefix
	maskLen int
	count   int
	// used counts the nodes holding each range (a hand-written podCIDR may repeat one).
	used map[int]int
	// next is where the search for a free range starts: after the last one handed
	// out, so a just-released range (whose pods may linger) is not reused at once.
	next int
}

func newAllocator(cluster netip.Prefix, maskLen int) (*allocator, error) {
	cluster = cluster.Masked()
	bits := cluster.Addr().BitLen()
	if maskLen < cluster.Bits() || maskLen > bits {
		return nil, fmt.Errorf("node CIDR mask /%d does not fit in cluster CIDR %s", maskLen, cluster)
	}
	if maskLen-cluster.Bits() > maxSubnetBits {
		return nil, fmt.Errorf("node CIDR mask /%d cuts %s into more than 2^%d ranges", maskLen, cluster, maxSubnetBits)
	}
	return &allocator{cluster: cluster, maskLen: maskLen, count: 1 << (maskLen - cluster.Bits()), used: map[int]int{}}, nil
}

// rangeAt returns the i-th range of the cluster CIDR.
func (a *allocator) rangeAt(i int) netip.Prefix {
	base := new(big.Int).SetBytes(a.cluster.Addr().AsSlice())
	step := new(big.Int).Lsh(big.NewInt(int64(i)), uint(a.cluster.Addr().BitLen()-a.maskLen))
	b := base.Add(base, step).FillBytes(make([]byte, a.cluster.Addr().BitLen()/8))
	addr, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(addr, a.maskLen)
}

// indices returns the ranges p covers or lies in; ok is false when p and the
// cluster CIDR do not overlap (a node that brought a range of its own).
func (a *allocator) indices(p netip.Prefix) (first, last int, ok bool) {
	p = p.Masked()
	if p.Addr().Is4() != a.cluster.Addr().Is4() || !p.Overlaps(a.cluster) {
		return 0, 0, false
	}
	if p.Bits() <= a.cluster.Bits() {
		return 0, a.count - 1, true // p holds the whole cluster CIDR
	}
	shift := uint(a.cluster.Addr().BitLen() - a.maskLen)
	offset := func(addr netip.Addr) int {
		v := new(big.Int).SetBytes(addr.AsSlice())
		v.Sub(v, new(big.Int).SetBytes(a.cluster.Addr().AsSlice()))
		return int(v.Rsh(v, shift).Int64())
	}
	first = offset(p.Addr())
	if p.Bits() >= a.maskLen {
		return first, first, true
	}
	return first, first + (1 << (a.maskLen - p.Bits())) - 1, true
}

// occupy marks the ranges p touches as taken; it reports false (and changes
// nothing) when p lies outside the cluster CIDR.
func (a *allocator) occupy(p netip.Prefix) bool {
	first, last, ok := a.indices(p)
	if !ok {
		return false
	}
	for i := first; i <= last; i++ {
		a.used[i]++
	}
	return true
}

// release undoes one occupy of p.
func (a *allocator) release(p netip.Prefix) {
	first, last, ok := a.indices(p)
	if !ok {
		return
	}
	for i := first; i <= last; i++ {
		if a.used[i] <= 1 {
			delete(a.used, i)
		} else {
			a.used[i]--
		}
	}
}

// allocate takes the next free range.
func (a *allocator) allocate() (netip.Prefix, error) {
	for n := 0; n < a.count; n++ {
		i := (a.next + n) % a.count
		if a.used[i] == 0 {
			a.used[i] = 1
			a.next = (i + 1) % a.count
			return a.rangeAt(i), nil
		}
	}
	return netip.Prefix{}, errFull
}
