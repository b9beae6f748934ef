package defaultpreemption

import (
	"math"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPickCandidate(t *testing.T) {
	victims := func(specs ...[2]int) []*corev1.Pod {
		var out []*corev1.Pod
		for i, s := range specs {
			out = append(out, pod("v"+string(rune('a'+i)), int32(s[0]), "1", on("n", s[1])))
		}
		return out
	}
	cases := []struct {
		name  string
		cands []*candidate
		want  string
	}{
		{"the node with fewer budget violations wins whatever its victims", []*candidate{
			{node: "n1", victims: victims([2]int{1, 5}), pdbViolations: 1},
			{node: "n2", victims: victims([2]int{100, 5}, [2]int{100, 5})},
		}, "n2"},
		{"then the node whose most important victim is the least important", []*candidate{
			{node: "n1", victims: victims([2]int{5, 5})},
			{node: "n2", victims: victims([2]int{3, 5}, [2]int{3, 5}, [2]int{3, 5})},
		}, "n2"},
		{"then the node whose victims' priorities add up to less", []*candidate{
			{node: "n1", victims: victims([2]int{5, 5}, [2]int{4, 5})},
			{node: "n2", victims: victims([2]int{5, 5}, [2]int{1, 5})},
		}, "n2"},
		{"negative priorities do not make more victims look cheaper", []*candidate{
			{node: "n1", victims: victims([2]int{-5, 5}, [2]int{-5, 5})},
			{node: "n2", victims: victims([2]int{-5, 5})},
		}, "n2"},
		// Shifted, the lowest priority adds nothing to the sum: only the count
		// tells these apart.
		{"then the node with fewer victims", []*candidate{
			{node: "n1", victims: victims([2]int{5, 5}, [2]int{math.MinInt32, 5})},
			{node: "n2", victims: victims([2]int{5, 5})},
			{node: "n3", victims: victims([2]int{5, 5}, [2]int{math.MinInt32, 5}, [2]int{math.MinInt32, 5})},
		}, "n2"},
		{"then the node whose most important victims started last", []*candidate{
			{node: "n1", victims: victims([2]int{5, 60})},
			{node: "n2", victims: victims([2]int{5, 2})},
			{node: "n3", victims: victims([2]int{5, 30})},
		}, "n2"},
		{"the start of less important victims does not count", []*candidate{
			{node: "n1", victims: victims([2]int{5, 2}, [2]int{1, 60})},
			{node: "n2", victims: victims([2]int{5, 10}, [2]int{1, 1})},
		}, "n1"},
		{"a full tie goes to the first candidate found", []*candidate{
			{node: "n1", victims: victims([2]int{5, 5})},
			{node: "n2", victims: victims([2]int{5, 5})},
		}, "n1"},
		{"a single candidate is the one", []*candidate{{node: "n9", victims: victims([2]int{5, 5}), pdbViolations: 3}}, "n9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pickCandidate(c.cands, testNow); got.node != c.want {
				t.Errorf("picked %s, want %s", got.node, c.want)
			}
		})
	}
	if pickCandidate(nil, testNow) != nil {
		t.Error("picked a candidate out of none")
	}
}
