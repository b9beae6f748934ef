package noderesources

import (
	"math"

	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// scorer scores a node over weighted resources: each resource's score from
// (requested, allocatable), averaged by weight. Resources the node does not have,
// and extended resources the pod does not ask for, are left out.
type scorer struct {
	resources []resourceWeight
	score     func(requested, capacity int64) int64
	nonZero   bool
	// ratio: RequestedToCapacityRatio's averaging, which leaves out resources
	// scoring 0 and rounds to the nearest integer.
	ratio bool
}

func (s *scorer) scoreNode(pi *fw.PodInfo, ni *fw.NodeInfo) int64 {
	var sum, weights int64
	for _, r := range s.resources {
		alloc, used, ok := scoredAmounts(pi, ni, r.name, s.nonZero)
		if !ok {
			continue
		}
		score := s.score(used, alloc)
		if s.ratio && score <= 0 {
			continue
		}
		sum += score * r.weight
		weights += r.weight
	}
	if weights == 0 {
		return 0
	}
	if s.ratio {
		return int64(math.Round(float64(sum) / float64(weights)))
	}
	return sum / weights
}

// leastRequestedScore favours free room: (capacity-requested)/capacity.
func leastRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * fw.MaxNodeScore / capacity
}

// mostRequestedScore favours full nodes (bin packing): requested/capacity.
func mostRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 {
		return 0
	}
	if requested > capacity {
		requested = capacity
	}
	return requested * fw.MaxNodeScore / capacity
}

// maxCustomPriorityScore is the top of the shape's score scale in the config.
const maxCustomPriorityScore = 10

// ratioScorer maps utilization (percent) to a score along the configured shape,
// linearly between points and flat beyond the ends.
func ratioScorer(shape []schedconfig.UtilizationShapePoint) func(requested, capacity int64) int64 {
	pts := make([]schedconfig.UtilizationShapePoint, len(shape))
	for i, p := range shape {
		pts[i] = schedconfig.UtilizationShapePoint{Utilization: p.Utilization, Score: p.Score * int32(fw.MaxNodeScore/maxCustomPriorityScore)}
	}
	f := func(u int64) int64 {
		if len(pts) == 0 {
			return 0
		}
		for i, p := range pts {
			if u <= int64(p.Utilization) {
				if i == 0 {
					return int64(p.Score)
				}
				prev := pts[i-1]
				return int64(prev.Score) + (int64(p.Score)-int64(prev.Score))*(u-int64(prev.Utilization))/(int64(p.Utilization)-int64(prev.Utilization))
			}
		}
		return int64(pts[len(pts)-1].Score)
	}
	return func(requested, capacity int64) int64 {
		if capacity == 0 || requested > capacity {
			return f(maxUtilization)
		}
		return f(requested * maxUtilization / capacity)
	}
}
