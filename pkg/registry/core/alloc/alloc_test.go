package alloc

import (
	"errors"
	"net/netip"
	"testing"
)

func TestIPRangeHandsOutAddressesOnceAndNeverTheFirst(t *testing.T) {
	r, err := NewIPRange("10.0.0.0/29") // usable .1-.6; .1 is reserved for explicit requests
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]bool{}
	for i := 0; i < 5; i++ {
		ip, err := r.AllocateNext()
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		if ip == netip.MustParseAddr("10.0.0.1") || seen[ip] || !netip.MustParsePrefix("10.0.0.0/29").Contains(ip) {
			t.Fatalf("allocation %d gave %s", i, ip)
		}
		if ip == netip.MustParseAddr("10.0.0.7") {
			t.Fatalf("handed out the broadcast address")
		}
		seen[ip] = true
	}
	if _, err := r.AllocateNext(); !errors.Is(err, ErrFull) {
		t.Fatalf("a full range answered %v", err)
	}
	if err := r.Allocate(netip.MustParseAddr("10.0.0.1")); err != nil {
		t.Fatalf("the first address asked for by name: %v", err)
	}
	if err := r.Allocate(netip.MustParseAddr("10.0.0.1")); !errors.Is(err, ErrAllocated) {
		t.Fatalf("a second request for the same address answered %v", err)
	}
	if err := r.Allocate(netip.MustParseAddr("10.0.1.1")); !errors.Is(err, ErrNotInIPRange) {
		t.Fatalf("an address outside the range answered %v", err)
	}
	r.Release(netip.MustParseAddr("10.0.0.3"))
	if r.Has(netip.MustParseAddr("10.0.0.3")) {
		t.Fatalf("a released address is still held")
	}
	if ip, err := r.AllocateNext(); err != nil || ip != netip.MustParseAddr("10.0.0.3") {
		t.Fatalf("after a release got %s, %v", ip, err)
	}
}

func TestIPRangeWorksForLargeAndIPv6Ranges(t *testing.T) {
	for _, cidr := range []string{"10.96.0.0/12", "fd00:10:96::/108", "fd00::/64"} {
		r, err := NewIPRange(cidr)
		if err != nil {
			t.Fatalf("%s: %v", cidr, err)
		}
		ip, err := r.AllocateNext()
		if err != nil || !netip.MustParsePrefix(cidr).Contains(ip) || !r.Has(ip) {
			t.Fatalf("%s: got %s, %v", cidr, ip, err)
		}
	}
	if _, err := NewIPRange("10.0.0.0/31"); err == nil {
		t.Fatalf("a /31 was accepted")
	}
}

func TestPortRange(t *testing.T) {
	r, err := NewPortRange("30000-30002")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Allocate(30001); err != nil {
		t.Fatal(err)
	}
	if err := r.Allocate(30001); !errors.Is(err, ErrPortAllocated) {
		t.Fatalf("double allocation answered %v", err)
	}
	if err := r.Allocate(80); err == nil || err.Error() != "provided port is not in the valid range. The range of valid ports is 30000-30002" {
		t.Fatalf("out of range answered %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := r.AllocateNext(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.AllocateNext(); !errors.Is(err, ErrFull) {
		t.Fatalf("a full range answered %v", err)
	}
	for _, bad := range []string{"", "30000", "5-1", "0-10", "1-70000"} {
		if _, err := NewPortRange(bad); err == nil {
			t.Errorf("range %q was accepted", bad)
		}
	}
}
