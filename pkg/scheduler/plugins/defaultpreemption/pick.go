package defaultpreemption

import (
	"math"
	"time"

	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// pickCandidate chooses where to preempt, by upstream's rules in turn, each
// breaking the ties of the one before: fewest PodDisruptionBudget violations,
// the lowest priority among the most important victims, the smallest sum of
// victim priorities, the fewest victims, the latest start of the most
// important victims; then the first candidate found.
func pickCandidate(cands []*candidate, now time.Time) *candidate {
	if len(cands) == 0 {
		return nil
	}
	scores := []func(c *candidate) int64{
		func(c *candidate) int64 { return -int64(c.pdbViolations) },
		func(c *candidate) int64 { return -int64(corev1helpers.PodPriority(c.victims[0])) },
		func(c *candidate) int64 {
			// Shifted to be non-negative, so that more pods of negative
			// priority never add up to less than fewer.
			var sum int64
			for _, v := range c.victims {
				sum += int64(corev1helpers.PodPriority(v)) + math.MaxInt32 + 1
			}
			return -sum
		},
		func(c *candidate) int64 { return -int64(len(c.victims)) },
		func(c *candidate) int64 { return earliestStartOfTopVictims(c, now).UnixNano() },
	}
	best := cands
	for _, score := range scores {
		if len(best) == 1 {
			break
		}
		var kept []*candidate
		top := int64(math.MinInt64)
		for _, c := range best {
			s := score(c)
			if s > top {
				top, kept = s, kept[:0]
			}
			if s == top {
				kept = append(kept, c)
			}
		}
		best = kept
	}
	return best[0]
}

// earliestStartOfTopVictims is the earliest start time among the victims of the
// highest priority on the candidate.
func earliestStartOfTopVictims(c *candidate, now time.Time) time.Time {
	top := corev1helpers.PodPriority(c.victims[0])
	earliest := startTime(c.victims[0], now)
	for _, v := range c.victims[1:] {
		p := corev1helpers.PodPriority(v)
		switch {
		case p > top:
			top, earliest = p, startTime(v, now)
		case p == top:
			if t := startTime(v, now); t.Before(earliest) {
				earliest = t
			}
		}
	}
	return earliest
}
