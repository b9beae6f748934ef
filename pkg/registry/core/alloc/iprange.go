// Package alloc hands out Service cluster IPs and node ports from fixed ranges.
// The ranges are plain in-memory sets: one API server writes Services, and it
// rebuilds the sets from the stored Services when it starts.
package alloc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
)

// Errors users see inside "failed to allocate IP …" and node port messages;
// the wording is upstream's.
var (
	ErrAllocated     = errors.New("provided IP is already allocated")
	ErrNotInIPRange  = errors.New("the provided network does not match the current range")
	ErrFull          = errors.New("range is full")
	ErrPortAllocated = errors.New("provided port is already allocated")
)

// maxRangeSize caps how many addresses of a large (IPv6) range are used.
const maxRangeSize = 1 << 24

// IPRange allocates addresses from a CIDR. The network address (and for IPv4 the
// broadcast address) are never handed out; the first usable address is only
// given to whoever asks for it by name, because the `kubernetes` Service owns it.
type IPRange struct {
	mu     sync.Mutex
	prefix netip.Prefix
	first  netip.Addr // first usable address
	size   uint64     // usable addresses from first on
	used   map[uint64]bool
}

// NewIPRange parses a CIDR such as 10.96.0.0/12.
func NewIPRange(cidr string) (*IPRange, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("service CIDR %q: %w", cidr, err)
	}
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	var size uint64
	switch {
	case hostBits >= 25:
		size = maxRangeSize
	case p.Addr().Is4():
		size = (uint64(1) << hostBits) - 2 // network and broadcast
	default:
		size = (uint64(1) << hostBits) - 1 // network
	}
	if hostBits < 2 || size == 0 {
		return nil, fmt.Errorf("service CIDR %q is too small", cidr)
	}
	return &IPRange{prefix: p, first: p.Addr().Next(), size: size, used: map[uint64]bool{}}, nil
}

// CIDR returns the range as a string.
func (r *IPRange) CIDR() string { return r.prefix.String() }

// IsIPv6 reports the range's family.
func (r *IPRange) IsIPv6() bool { return r.prefix.Addr().Is6() }

// First is the first usable address, the `kubernetes` Service's.
func (r *IPRange) First() netip.Addr { return r.first }

// split returns an address as two 64-bit halves of its 16-byte form.
func split(ip netip.Addr) (hi, lo uint64) {
	b := ip.As16()
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return hi, lo
}

func (r *IPRange) offset(ip netip.Addr) (uint64, bool) {
	if !r.prefix.Contains(ip) {
		return 0, false
	}
	hi, lo := split(ip)
	fhi, flo := split(r.first)
	if hi != fhi || lo < flo {
		return 0, false
	}
	off := lo - flo
	return off, off < r.size
}

func (r *IPRange) addr(off uint64) netip.Addr {
	b := r.first.As16()
	_, lo := split(r.first)
	lo += off
	for i := 15; i >= 8; i-- {
		b[i] = byte(lo)
		lo >>= 8
	}
	a := netip.AddrFrom16(b)
	if r.first.Is4() {
		a = a.Unmap()
	}
	return a
}

// Allocate reserves a given address.
func (r *IPRange) Allocate(ip netip.Addr) error {
	off, ok := r.offset(ip)
	if !ok {
		return ErrNotInIPRange
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used[off] {
		return ErrAllocated
	}
	r.used[off] = true
	return nil
}

// AllocateNext reserves a free address picked at random, never the first one.
func (r *IPRange) AllocateNext() (netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size <= 1 {
		return netip.Addr{}, ErrFull
	}
	span := r.size - 1
	start := rand.Uint64N(span)
	for i := uint64(0); i < span; i++ {
		off := 1 + (start+i)%span
		if !r.used[off] {
			r.used[off] = true
			return r.addr(off), nil
		}
	}
	return netip.Addr{}, ErrFull
}

// Release frees an address; releasing a free or foreign address does nothing.
func (r *IPRange) Release(ip netip.Addr) {
	off, ok := r.offset(ip)
	if !ok {
		return
	}
	r.mu.Lock()
	delete(r.used, off)
	r.mu.Unlock()
}

// Has reports whether an address is allocated.
func (r *IPRange) Has(ip netip.Addr) bool {
	off, ok := r.offset(ip)
	if !ok {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used[off]
}

// Used counts allocated addresses.
func (r *IPRange) Used() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.used)
}
