package sim

import (
	"fmt"
	"net/netip"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// podIPs hands out the addresses of one node's /24, as host-local IPAM would:
// each pod keeps its address until it is released, the lowest free one goes next.
type podIPs struct {
	mu    sync.Mutex
	cidr  netip.Prefix
	used  [256]bool
	byUID map[types.UID]uint8
}

func newPodIPs(cidr string) (*podIPs, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Bits() != 24 {
		return nil, fmt.Errorf("pod CIDR %q is not an IPv4 /24", cidr)
	}
	a := &podIPs{cidr: p.Masked(), byUID: map[types.UID]uint8{}}
	a.used[0], a.used[1], a.used[255] = true, true, true
	return a, nil
}

// Assign returns the pod's address, taking the lowest free one the first time.
func (a *podIPs) Assign(uid types.UID) (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if host, ok := a.byUID[uid]; ok {
		return a.addr(host), nil
	}
	for h := 2; h < 255; h++ {
		if !a.used[h] {
			a.used[h] = true
			a.byUID[uid] = uint8(h)
			return a.addr(uint8(h)), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in %s (%d pods hold one)", a.cidr, len(a.byUID))
}

// Claim records an address a pod already has (status written before a restart);
// false when the address is outside the range or held by another pod.
func (a *podIPs) Claim(uid types.UID, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil || !a.cidr.Contains(addr) {
		return false
	}
	h := addr.As4()[3]
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur, ok := a.byUID[uid]; ok {
		return cur == h
	}
	if a.used[h] {
		return false
	}
	a.used[h] = true
	a.byUID[uid] = h
	return true
}

// Release frees the pod's address, if it has one.
func (a *podIPs) Release(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h, ok := a.byUID[uid]; ok {
		delete(a.byUID, uid)
		a.used[h] = false
	}
}

func (a *podIPs) addr(host uint8) netip.Addr {
	b := a.cidr.Addr().As4()
	b[3] = host
	return netip.AddrFrom4(b)
}
