package defaultpreemption

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	schedconfig "k8s.io/kube-scheduler/config/v1"
)

// Upstream's defaults: dry-run preemption on at least 10% of the candidate
// nodes, and never fewer than 100 of them.
const (
	DefaultMinCandidateNodesPercentage int32 = 10
	DefaultMinCandidateNodesAbsolute   int32 = 100
)

// Args are DefaultPreemptionArgs with the defaults filled in.
type Args struct {
	MinCandidateNodesPercentage int32
	MinCandidateNodesAbsolute   int32
}

// ArgsFrom reads the plugin's configuration: nil, or a *DefaultPreemptionArgs whose
// unset fields take upstream's defaults.
func ArgsFrom(obj runtime.Object) (Args, error) {
	a := Args{MinCandidateNodesPercentage: DefaultMinCandidateNodesPercentage, MinCandidateNodesAbsolute: DefaultMinCandidateNodesAbsolute}
	if obj == nil {
		return a, nil
	}
	in, ok := obj.(*schedconfig.DefaultPreemptionArgs)
	if !ok {
		return a, fmt.Errorf("got args of type %T, want *DefaultPreemptionArgs", obj)
	}
	if in == nil {
		return a, nil
	}
	if in.MinCandidateNodesPercentage != nil {
		a.MinCandidateNodesPercentage = *in.MinCandidateNodesPercentage
	}
	if in.MinCandidateNodesAbsolute != nil {
		a.MinCandidateNodesAbsolute = *in.MinCandidateNodesAbsolute
	}
	return a, nil
}

// ValidateArgs checks the arguments as upstream does, with field paths under path
// (nil when the plugin itself checks them): the percentage in [0, 100], the
// absolute number not negative, and not both zero.
func ValidateArgs(path *field.Path, a Args) field.ErrorList {
	var errs field.ErrorList
	pct := path.Child("minCandidateNodesPercentage")
	abs := path.Child("minCandidateNodesAbsolute")
	if a.MinCandidateNodesPercentage < 0 || a.MinCandidateNodesPercentage > 100 {
		errs = append(errs, field.Invalid(pct, a.MinCandidateNodesPercentage, "not in valid range [0, 100]"))
	}
	if a.MinCandidateNodesAbsolute < 0 {
		errs = append(errs, field.Invalid(abs, a.MinCandidateNodesAbsolute, "not in valid range [0, inf)"))
	}
	if a.MinCandidateNodesPercentage == 0 && a.MinCandidateNodesAbsolute == 0 {
		errs = append(errs,
			field.Invalid(pct, a.MinCandidateNodesPercentage, "cannot be zero at the same time as minCandidateNodesAbsolute"),
			field.Invalid(abs, a.MinCandidateNodesAbsolute, "cannot be zero at the same time as minCandidateNodesPercentage"))
	}
	return errs
}

// ValidateConfig is ValidateArgs for a pluginConfig entry's args, for the
// configuration's validation; path is the entry's args.
func ValidateConfig(path *field.Path, obj runtime.Object) field.ErrorList {
	a, err := ArgsFrom(obj)
	if err != nil {
		return field.ErrorList{field.Invalid(path, obj, "has to match plugin args")}
	}
	return ValidateArgs(path, a)
}

// numCandidates is how many candidate nodes the dry run looks for among n
// nodes: the percentage of them, at least the absolute number, at most n.
func (a Args) numCandidates(n int32) int32 {
	c := n * a.MinCandidateNodesPercentage / 100
	if c < a.MinCandidateNodesAbsolute {
		c = a.MinCandidateNodesAbsolute
	}
	if c > n {
		c = n
	}
	return c
}
