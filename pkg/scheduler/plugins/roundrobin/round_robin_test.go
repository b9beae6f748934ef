package roundrobin

import "testing"

func TestNext(t *testing.T) {
	cases := []struct {
		name  string
		last  string
		nodes []string
		want  string
	}{
		{"with no choice yet the first node in name order comes first", "", []string{"b", "a", "c"}, "a"},
		{"the node after the last choice comes next", "a", []string{"c", "a", "b"}, "b"},
		{"after the last node it wraps to the first", "c", []string{"a", "b", "c"}, "a"},
		{"a last choice that is no longer feasible is passed over", "b", []string{"a", "c"}, "c"},
		{"a single node is always next", "a", []string{"a"}, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Next(c.last, c.nodes); got != c.want {
				t.Fatalf("Next(%q, %v) = %q, want %q", c.last, c.nodes, got, c.want)
			}
		})
	}
}
