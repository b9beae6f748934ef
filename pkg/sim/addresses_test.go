package sim

import (
	"strings"
	"testing"
)

func TestSlotAddresses(t *testing.T) {
	cases := []struct {
		name       string
		slot       int
		cidr, ip   string
		wantErrMsg string
	}{
		{"the first slot takes the first /24 of 100.64.0.0/10 and the first host of 198.18.0.0/15", 0, "100.64.0.0/24", "198.18.0.1", ""},
		{"slot 256 crosses into the next /16", 256, "100.65.0.0/24", "198.18.1.1", ""},
		{"the last slot takes the last /24 of the range", MaxNodes - 1, "100.127.255.0/24", "198.18.64.0", ""},
		{"a slot past the range is refused", MaxNodes, "", "", "outside"},
		{"a negative slot is refused", -1, "", "", "outside"},
	}
	for _, c := range cases {
		cidr, err1 := PodCIDR(c.slot)
		ip, err2 := InternalIP(c.slot)
		if c.wantErrMsg != "" {
			if err1 == nil || err2 == nil || !strings.Contains(err1.Error(), c.wantErrMsg) {
				t.Errorf("%s: got %v, %v", c.name, err1, err2)
			}
			continue
		}
		if err1 != nil || err2 != nil || cidr.String() != c.cidr || ip.String() != c.ip {
			t.Errorf("%s: got %s %s (%v %v), want %s %s", c.name, cidr, ip, err1, err2, c.cidr, c.ip)
		}
		if k, ok := SlotOf(c.cidr); !ok || k != c.slot {
			t.Errorf("%s: SlotOf(%s) = %d %v", c.name, c.cidr, k, ok)
		}
	}
}

func TestSlotOfRejectsRangesThatAreNotSlots(t *testing.T) {
	for name, cidr := range map[string]string{
		"a real cluster's pod range":    "10.244.0.0/24",
		"a /23 inside the sim range":    "100.64.0.0/23",
		"an unaligned /24":              "100.64.0.1/24",
		"garbage":                       "not-a-cidr",
		"an empty string":               "",
		"an IPv6 range":                 "fd00::/64",
		"a /24 just past the sim range": "100.128.0.0/24",
	} {
		if k, ok := SlotOf(cidr); ok {
			t.Errorf("%s: %q taken as slot %d", name, cidr, k)
		}
	}
}

func TestFreeSlots(t *testing.T) {
	cases := []struct {
		name string
		used map[int]bool
		n    int
		want []int
	}{
		{"with nothing used the lowest slots are given", nil, 3, []int{0, 1, 2}},
		{"used slots are skipped", map[int]bool{0: true, 2: true}, 3, []int{1, 3, 4}},
		{"asking for none gives none", map[int]bool{0: true}, 0, []int{}},
	}
	for _, c := range cases {
		got, err := FreeSlots(c.used, c.n)
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%s: got %v, %v", c.name, got, err)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
	used := map[int]bool{}
	for k := 0; k < MaxNodes-1; k++ {
		used[k] = true
	}
	if _, err := FreeSlots(used, 2); err == nil || !strings.Contains(err.Error(), "only 1 more") {
		t.Errorf("asking for more slots than are left: %v", err)
	}
}
