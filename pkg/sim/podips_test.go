package sim

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestPodIPsHandsOutTheLowestFreeAddress(t *testing.T) {
	a, err := newPodIPs("100.64.3.0/24")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() (string, error)
		want string
	}{
		{"the first pod gets .2, past the network and gateway addresses", func() (string, error) { return assign(a, "a") }, "100.64.3.2"},
		{"the next pod gets .3", func() (string, error) { return assign(a, "b") }, "100.64.3.3"},
		{"a pod asking again keeps its address", func() (string, error) { return assign(a, "a") }, "100.64.3.2"},
		{"a released address is the lowest free one again", func() (string, error) { a.Release("a"); return assign(a, "c") }, "100.64.3.2"},
		{"releasing a pod without an address changes nothing", func() (string, error) { a.Release("zzz"); return assign(a, "d") }, "100.64.3.4"},
	}
	for _, s := range steps {
		got, err := s.do()
		if err != nil || got != s.want {
			t.Errorf("%s: got %s, %v; want %s", s.name, got, err, s.want)
		}
	}
}

func TestPodIPsClaim(t *testing.T) {
	a, _ := newPodIPs("100.64.3.0/24")
	cases := []struct {
		name string
		uid  types.UID
		ip   string
		want bool
	}{
		{"a free address in the range is claimed", "a", "100.64.3.7", true},
		{"the same pod claiming it again keeps it", "a", "100.64.3.7", true},
		{"another pod cannot claim a held address", "b", "100.64.3.7", false},
		{"a pod holding one address cannot claim a second", "a", "100.64.3.8", false},
		{"an address outside the range is refused", "c", "100.64.4.7", false},
		{"the gateway address is refused", "d", "100.64.3.1", false},
		{"a malformed address is refused", "e", "nope", false},
	}
	for _, c := range cases {
		if got := a.Claim(c.uid, c.ip); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
	if ip, _ := assign(a, "f"); ip != "100.64.3.2" {
		t.Errorf("claimed addresses must not move the lowest free one: got %s", ip)
	}
}

func TestPodIPsRunsOutAfter253Pods(t *testing.T) {
	a, _ := newPodIPs("100.64.3.0/24")
	for i := 0; i < MaxPodsPerNode; i++ {
		if _, err := assign(a, types.UID(fmt.Sprint(i))); err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
	}
	if ip, err := assign(a, "one-too-many"); err == nil {
		t.Fatalf("pod %d got %s", MaxPodsPerNode+1, ip)
	}
}

func TestNewPodIPsRefusesWhatIsNotAnIPv4Slash24(t *testing.T) {
	for _, cidr := range []string{"", "100.64.0.0/23", "fd00::/120", "x"} {
		if _, err := newPodIPs(cidr); err == nil {
			t.Errorf("%q accepted", cidr)
		}
	}
}

func assign(a *podIPs, uid types.UID) (string, error) {
	ip, err := a.Assign(uid)
	return ip.String(), err
}
