package podtopologyspread

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	schedconfig "k8s.io/kube-scheduler/config/v1"
)

// systemDefaultConstraints are what pods without constraints of their own get
// under defaultingType System (upstream's): spread over nodes and over zones,
// never blocking.
var systemDefaultConstraints = []corev1.TopologySpreadConstraint{
	{TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.ScheduleAnyway, MaxSkew: 3},
	{TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.ScheduleAnyway, MaxSkew: 5},
}

// DefaultArgs are upstream's defaults: system defaulting.
func DefaultArgs() *schedconfig.PodTopologySpreadArgs {
	return &schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.SystemDefaulting}
}

// ValidateArgs checks PodTopologySpreadArgs as upstream does (an empty
// defaultingType is System, as upstream's defaulting makes it); path is where the
// args sit in the configuration (nil when checked on their own).
func ValidateArgs(path *field.Path, a *schedconfig.PodTopologySpreadArgs) error {
	var errs field.ErrorList
	typ := a.DefaultingType
	if typ == "" {
		typ = schedconfig.SystemDefaulting
	}
	if typ != schedconfig.SystemDefaulting && typ != schedconfig.ListDefaulting {
		errs = append(errs, field.NotSupported(path.Child("defaultingType"), typ,
			[]string{string(schedconfig.SystemDefaulting), string(schedconfig.ListDefaulting)}))
	} else if typ == schedconfig.SystemDefaulting && len(a.DefaultConstraints) > 0 {
		errs = append(errs, field.Invalid(path.Child("defaultingType"), typ, "when .defaultConstraints are not empty"))
	}
	listPath := path.Child("defaultConstraints")
	for i := range a.DefaultConstraints {
		c := &a.DefaultConstraints[i]
		p := listPath.Index(i)
		if c.MaxSkew <= 0 {
			errs = append(errs, field.Invalid(p.Child("maxSkew"), c.MaxSkew, "not in valid range (0, inf)"))
		}
		if c.TopologyKey == "" {
			errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
		} else {
			errs = append(errs, metav1validation.ValidateLabelName(c.TopologyKey, p.Child("topologyKey"))...)
		}
		actions := sets.New(string(corev1.DoNotSchedule), string(corev1.ScheduleAnyway))
		switch {
		case c.WhenUnsatisfiable == "":
			errs = append(errs, field.Required(p.Child("whenUnsatisfiable"), "can not be empty"))
		case !actions.Has(string(c.WhenUnsatisfiable)):
			errs = append(errs, field.NotSupported(p.Child("whenUnsatisfiable"), c.WhenUnsatisfiable, sets.List(actions)))
		}
		if c.LabelSelector != nil {
			errs = append(errs, field.Forbidden(p.Child("labelSelector"), "constraint must not define a selector, as they deduced for each pod"))
		}
		for j := range a.DefaultConstraints[:i] {
			o := &a.DefaultConstraints[j]
			if c.TopologyKey == o.TopologyKey && c.WhenUnsatisfiable == o.WhenUnsatisfiable {
				errs = append(errs, field.Duplicate(listPath.Index(i), fmt.Sprintf("{%v, %v}", c.TopologyKey, c.WhenUnsatisfiable)))
				break
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs.ToAggregate()
}
