package defaultpreemption

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"
)

func argsObj(pct, abs int32) *schedconfig.DefaultPreemptionArgs {
	return &schedconfig.DefaultPreemptionArgs{MinCandidateNodesPercentage: &pct, MinCandidateNodesAbsolute: &abs}
}

func TestArgs(t *testing.T) {
	cases := []struct {
		name    string
		obj     runtime.Object
		want    Args
		wantErr string
	}{
		{name: "no args are upstream's defaults", want: Args{10, 100}},
		{name: "unset fields take the defaults", obj: &schedconfig.DefaultPreemptionArgs{MinCandidateNodesAbsolute: ptr.To[int32](5)}, want: Args{10, 5}},
		{name: "set fields are kept", obj: argsObj(50, 0), want: Args{50, 0}},
		{name: "args of another plugin are refused", obj: &schedconfig.NodeAffinityArgs{},
			wantErr: "got args of type *v1.NodeAffinityArgs, want *DefaultPreemptionArgs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ArgsFrom(c.obj)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestValidateArgs(t *testing.T) {
	cases := []struct {
		name string
		path *field.Path
		args Args
		want string
	}{
		{name: "the defaults are valid", args: Args{10, 100}},
		{name: "a zero percentage with an absolute number is valid", args: Args{0, 1}},
		{name: "a percentage above 100 is refused", args: Args{101, 100},
			want: "minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]"},
		{name: "a negative percentage is refused", args: Args{-1, 100},
			want: "minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100]"},
		{name: "a negative absolute number is refused", args: Args{10, -1},
			want: "minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)"},
		{name: "both zero are refused on both fields", args: Args{0, 0},
			want: "[minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute, " +
				"minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same time as minCandidateNodesPercentage]"},
		{name: "in a configuration the path leads to the profile's plugin args",
			path: field.NewPath("profiles").Index(0).Child("pluginConfig").Index(1).Child("args"), args: Args{200, 100},
			want: "profiles[0].pluginConfig[1].args.minCandidateNodesPercentage: Invalid value: 200: not in valid range [0, 100]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateArgs(c.path, c.args).ToAggregate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestNumCandidates(t *testing.T) {
	cases := []struct {
		name  string
		args  Args
		nodes int32
		want  int32
	}{
		{"a small cluster is tried whole", Args{10, 100}, 50, 50},
		{"the absolute number sets the floor", Args{10, 100}, 500, 100},
		{"in a large cluster the percentage rules", Args{10, 100}, 5000, 500},
		{"a zero percentage leaves the absolute number", Args{0, 7}, 5000, 7},
		{"a zero absolute number leaves the percentage", Args{50, 0}, 10, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.args.numCandidates(c.nodes); got != c.want {
				t.Fatalf("numCandidates(%d) = %d, want %d", c.nodes, got, c.want)
			}
		})
	}
}
