package podautoscaler

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Without behavior, a scale-up goes to at most twice the replicas (at least 4).
const (
	scaleUpLimitFactor  = 2.0
	scaleUpLimitMinimum = 4.0
)

// recommendation is a replica count the metrics asked for at some time.
type recommendation struct {
	replicas int32
	at       time.Time
}

// scaleEvent is a change of replicas made at some time; outdated events are
// older than every policy period and may be reused.
type scaleEvent struct {
	change   int32
	at       time.Time
	outdated bool
}

// history is what the controller remembers of one autoscaler: recent
// recommendations (for stabilization) and scale changes (for policies).
type history struct {
	recommendations []recommendation
	ups, downs      []scaleEvent
}

// remember records a recommendation, reusing the slot of one that fell out
// of every window.
func (h *history) remember(r recommendation, reuse int) {
	if reuse >= 0 {
		h.recommendations[reuse] = r
		return
	}
	h.recommendations = append(h.recommendations, r)
}

// stabilize (no behavior) applies the downscale stabilization window: the
// highest recommendation of the window wins, so replicas drop only once
// every recent recommendation agrees.
func (h *history) stabilize(desired int32, window time.Duration, now time.Time) int32 {
	highest := desired
	reuse := -1
	cutoff := now.Add(-window)
	for i, r := range h.recommendations {
		if r.at.Before(cutoff) {
			reuse = i
		} else if r.replicas > highest {
			highest = r.replicas
		}
	}
	h.remember(recommendation{desired, now}, reuse)
	return highest
}

// stabilizeWithBehavior applies both stabilization windows of a behavior:
// the lowest recommendation of the scale-up window bounds a scale-up, the
// highest of the scale-down window bounds a scale-down.
func (h *history) stabilizeWithBehavior(current, desired int32, upWindow, downWindow time.Duration, now time.Time) (int32, string, string) {
	up, down := desired, desired
	upCutoff, downCutoff := now.Add(-upWindow), now.Add(-downWindow)
	reuse := -1
	for i, r := range h.recommendations {
		if r.at.After(upCutoff) {
			up = min(up, r.replicas)
		}
		if r.at.After(downCutoff) {
			down = max(down, r.replicas)
		}
		if r.at.Before(upCutoff) && r.at.Before(downCutoff) {
			reuse = i
		}
	}
	stabilized := min(max(current, up), down)
	h.remember(recommendation{desired, now}, reuse)
	if desired >= current {
		return stabilized, "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation"
	}
	return stabilized, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"
}

// limitByRules (no behavior) keeps a count within [min, max] and the scale-up
// limit, with the ScalingLimited reason and message that explain it.
func limitByRules(current, desired, minReplicas, maxReplicas int32) (int32, string, string) {
	upLimit := int32(math.Max(scaleUpLimitFactor*float64(current), scaleUpLimitMinimum))
	ceiling, reason, message := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
	if maxReplicas > upLimit {
		ceiling, reason, message = upLimit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
	}
	switch {
	case desired < minReplicas:
		return minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
	case desired > ceiling:
		return ceiling, reason, message
	}
	return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
}

// changeWithin sums the changes of events newer than a period.
func changeWithin(period int32, events []scaleEvent, now time.Time) int32 {
	cutoff := now.Add(-time.Duration(period) * time.Second)
	var n int32
	for _, e := range events {
		if e.at.After(cutoff) {
			n += e.change
		}
	}
	return n
}

// upLimit is the most replicas a behavior's scale-up policies allow now.
func upLimit(current int32, ups, downs []scaleEvent, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	if rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.DisabledPolicySelect {
		return current
	}
	useMin := rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.MinChangePolicySelect
	result := int32(math.MinInt32)
	if useMin {
		result = math.MaxInt32
	}
	for _, p := range rules.Policies {
		start := current - changeWithin(p.PeriodSeconds, ups, now) + changeWithin(p.PeriodSeconds, downs, now)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start + p.Value
		case autoscalingv2.PercentScalingPolicy:
			// Rounded up, or a small target might never grow.
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		if useMin {
			result = min(result, proposed)
		} else {
			result = max(result, proposed)
		}
	}
	return result
}

// downLimit is the fewest replicas a behavior's scale-down policies allow now.
func downLimit(current int32, ups, downs []scaleEvent, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	if rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.DisabledPolicySelect {
		return current
	}
	useMin := rules.SelectPolicy != nil && *rules.SelectPolicy == autoscalingv2.MinChangePolicySelect
	result := int32(math.MaxInt32)
	if useMin {
		result = math.MinInt32
	}
	for _, p := range rules.Policies {
		start := current - changeWithin(p.PeriodSeconds, ups, now) + changeWithin(p.PeriodSeconds, downs, now)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start - p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		if useMin {
			// The smallest change of a scale-down is the highest count.
			result = max(result, proposed)
		} else {
			result = min(result, proposed)
		}
	}
	return result
}

// limitByBehavior keeps a count within [min, max] and the rate the
// behavior's policies allow given the recent changes.
func (h *history) limitByBehavior(current, desired, minReplicas, maxReplicas int32, b *autoscalingv2.HorizontalPodAutoscalerBehavior, now time.Time) (int32, string, string) {
	switch {
	case desired > current:
		limit := max(upLimit(current, h.ups, h.downs, b.ScaleUp, now), current)
		ceiling, reason, message := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		if maxReplicas > limit {
			ceiling, reason, message = limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
		if desired > ceiling {
			return ceiling, reason, message
		}
	case desired < current:
		limit := min(downLimit(current, h.ups, h.downs, b.ScaleDown, now), current)
		floor, reason, message := minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		if minReplicas < limit {
			floor, reason, message = limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if desired < floor {
			return floor, reason, message
		}
	}
	return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
}

// recordScale remembers a change of replicas for the behavior's policies,
// reusing the slot of an event older than every policy period.
func (h *history) recordScale(b *autoscalingv2.HorizontalPodAutoscalerBehavior, from, to int32, now time.Time) {
	if b == nil {
		return
	}
	events, rules, change := &h.ups, b.ScaleUp, to-from
	if to <= from {
		events, rules, change = &h.downs, b.ScaleDown, from-to
	}
	var longest int32
	if rules != nil {
		for _, p := range rules.Policies {
			longest = max(longest, p.PeriodSeconds)
		}
	}
	cutoff := now.Add(-time.Duration(longest) * time.Second)
	reuse := -1
	for i := range *events {
		if (*events)[i].at.Before(cutoff) {
			(*events)[i].outdated = true
		}
		if (*events)[i].outdated {
			reuse = i
		}
	}
	e := scaleEvent{change: change, at: now}
	if reuse >= 0 {
		(*events)[reuse] = e
		return
	}
	*events = append(*events, e)
}
