package noderesources

import (
	"fmt"

	schedconfig "k8s.io/kube-scheduler/config/v1"
)

// Bounds of resource weights and of the shape, as upstream validates them.
const (
	maxResourceWeight = 100
	maxUtilization    = 100
)

// ValidateFitArgs checks NodeResourcesFitArgs with upstream's field paths and messages.
func ValidateFitArgs(a *schedconfig.NodeResourcesFitArgs) error {
	st := a.ScoringStrategy
	if st == nil {
		return nil
	}
	switch st.Type {
	case schedconfig.LeastAllocated, schedconfig.MostAllocated, "":
	case schedconfig.RequestedToCapacityRatio:
		if st.RequestedToCapacityRatio == nil {
			return fmt.Errorf("scoringStrategy.requestedToCapacityRatio: Required value")
		}
		if err := validateShape(st.RequestedToCapacityRatio.Shape, "scoringStrategy.requestedToCapacityRatio.shape"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("scoringStrategy.type: Unsupported value: %q: supported values: %q, %q, %q", st.Type,
			schedconfig.LeastAllocated, schedconfig.MostAllocated, schedconfig.RequestedToCapacityRatio)
	}
	return validateResources(st.Resources, "scoringStrategy.resources")
}

func validateResources(res []schedconfig.ResourceSpec, path string) error {
	seen := map[string]bool{}
	for i, r := range res {
		if r.Weight <= 0 || r.Weight > maxResourceWeight {
			return fmt.Errorf("%s[%d].weight: Invalid value: %d: resource weight of %s should be in (0, %d]", path, i, r.Weight, r.Name, maxResourceWeight)
		}
		if seen[r.Name] {
			return fmt.Errorf("%s[%d].name: Duplicate value: %q", path, i, r.Name)
		}
		seen[r.Name] = true
		if r.Name == "" {
			return fmt.Errorf("%s[%d].name: Required value", path, i)
		}
	}
	return nil
}

func validateShape(shape []schedconfig.UtilizationShapePoint, path string) error {
	if len(shape) == 0 {
		return fmt.Errorf("%s: Required value: at least one point must be specified", path)
	}
	for i, p := range shape {
		if p.Utilization < 0 || p.Utilization > maxUtilization {
			return fmt.Errorf("%s[%d].utilization: Invalid value: %d: not in valid range [0-%d]", path, i, p.Utilization, maxUtilization)
		}
		if p.Score < 0 || p.Score > maxCustomPriorityScore {
			return fmt.Errorf("%s[%d].score: Invalid value: %d: not in valid range [0-%d]", path, i, p.Score, maxCustomPriorityScore)
		}
		if i > 0 && p.Utilization <= shape[i-1].Utilization {
			return fmt.Errorf("%s[%d].utilization: Invalid value: %d: utilization values must be sorted in increasing order", path, i, p.Utilization)
		}
	}
	return nil
}
