package nodeipam

import (
	"net/netip"
	"testing"
)

func mustAllocator(t *testing.T, cluster string, mask int) *allocator {
	t.Helper()
	a, err := newAllocator(netip.MustParsePrefix(cluster), mask)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNewAllocatorRefusesMasksThatDoNotFit(t *testing.T) {
	for _, c := range []struct {
		cluster string
		mask    int
	}{{"10.244.0.0/16", 8}, {"10.244.0.0/16", 33}, {"10.0.0.0/8", 25}, {"fd00::/48", 129}} {
		if _, err := newAllocator(netip.MustParsePrefix(c.cluster), c.mask); err == nil {
			t.Errorf("%s with /%d accepted", c.cluster, c.mask)
		}
	}
}

func TestAllocateHandsOutRangesInOrderAndNeverTwice(t *testing.T) {
	a := mustAllocator(t, "10.244.0.0/22", 24)
	var got []string
	for i := 0; i < 4; i++ {
		p, err := a.allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.String())
	}
	want := []string{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if _, err := a.allocate(); err != errFull {
		t.Errorf("fifth allocation: %v, want errFull", err)
	}
}

func TestAReleasedRangeIsReusedOnlyAfterTheOthers(t *testing.T) {
	a := mustAllocator(t, "10.244.0.0/22", 24)
	first, _ := a.allocate()
	a.release(first)
	next, _ := a.allocate()
	if next.String() != "10.244.1.0/24" {
		t.Errorf("after releasing %s the next range was %s", first, next)
	}
}

func TestOccupy(t *testing.T) {
	cases := []struct {
		name     string
		occupy   string
		inside   bool
		wantNext string
	}{
		{"a node's own range inside the cluster CIDR is skipped", "10.244.0.0/24", true, "10.244.1.0/24"},
		{"a smaller range takes the whole range around it", "10.244.0.128/25", true, "10.244.1.0/24"},
		{"a larger range takes every range it covers", "10.244.0.0/23", true, "10.244.2.0/24"},
		{"a range from 100.64.0.0/10 is outside and changes nothing", "100.64.3.0/24", false, "10.244.0.0/24"},
		{"an IPv6 range beside an IPv4 cluster changes nothing", "fd00::/64", false, "10.244.0.0/24"},
		{"a range holding the whole cluster CIDR takes everything", "10.0.0.0/8", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustAllocator(t, "10.244.0.0/22", 24)
			if got := a.occupy(netip.MustParsePrefix(c.occupy)); got != c.inside {
				t.Fatalf("occupy = %v, want %v", got, c.inside)
			}
			p, err := a.allocate()
			if c.wantNext == "" {
				if err == nil {
					t.Errorf("allocated %s from a full cluster CIDR", p)
				}
				return
			}
			if err != nil || p.String() != c.wantNext {
				t.Errorf("next = %s, %v; want %s", p, err, c.wantNext)
			}
		})
	}
}

func TestARangeHeldByTwoNodesStaysTakenUntilBothRelease(t *testing.T) {
	a := mustAllocator(t, "10.244.0.0/23", 24)
	p := netip.MustParsePrefix("10.244.0.0/24")
	a.occupy(p)
	a.occupy(p)
	a.release(p)
	a.occupy(netip.MustParsePrefix("10.244.1.0/24"))
	if _, err := a.allocate(); err != errFull {
		t.Errorf("a range one node still holds was handed out: %v", err)
	}
}

func TestIPv6Ranges(t *testing.T) {
	a := mustAllocator(t, "fd00:10:244::/56", 64)
	a.occupy(netip.MustParsePrefix("fd00:10:244::/64"))
	p, err := a.allocate()
	if err != nil || p.String() != "fd00:10:244:1::/64" {
		t.Errorf("got %s, %v", p, err)
	}
}
