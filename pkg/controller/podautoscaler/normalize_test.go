package podautoscaler

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func TestStabilizeKeepsTheHighestRecommendationOfTheWindow(t *testing.T) {
	window := 5 * time.Minute
	h := &history{recommendations: []recommendation{{5, t0}}}
	cases := []struct {
		name    string
		at      time.Duration
		desired int32
		want    int32
	}{
		{"a lower recommendation within the window is held at the highest", time.Minute, 2, 5},
		{"a higher one goes through at once", 2 * time.Minute, 7, 7},
		{"a lower one is still held by the recent high", 6 * time.Minute, 3, 7},
		{"once the high is older than the window, the next highest wins", 8 * time.Minute, 3, 3},
	}
	for _, c := range cases {
		if got := h.stabilize(c.desired, window, t0.Add(c.at)); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

func TestLimitByRules(t *testing.T) {
	cases := []struct {
		name                       string
		current, desired, min, max int32
		want                       int32
		wantReason                 string
	}{
		{"a count within bounds goes through", 3, 5, 1, 10, 5, "DesiredWithinRange"},
		{"more than the maximum is capped", 3, 20, 1, 5, 5, "TooManyReplicas"},
		{"less than the minimum is raised", 3, 1, 2, 10, 2, "TooFewReplicas"},
		{"a scale-up is at most double the current count", 5, 40, 1, 100, 10, "ScaleUpLimit"},
		{"a small target may grow to four at once", 1, 40, 1, 100, 4, "ScaleUpLimit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, reason, _ := limitByRules(c.current, c.desired, c.min, c.max)
			if got != c.want || reason != c.wantReason {
				t.Errorf("got %d %s, want %d %s", got, reason, c.want, c.wantReason)
			}
		})
	}
}

func selectPolicy(p autoscalingv2.ScalingPolicySelect) *autoscalingv2.ScalingPolicySelect { return &p }

func window(s int32) *int32 { return &s }

func TestStabilizeWithBehavior(t *testing.T) {
	cases := []struct {
		name       string
		history    []recommendation
		current    int32
		desired    int32
		up, down   time.Duration
		want       int32
		wantReason string
	}{
		{"no window lets a scale-up through", []recommendation{{2, t0.Add(-time.Second)}}, 3, 6, 0, 0, 6, "ScaleUpStabilized"},
		{"a scale-up window takes the lowest recent recommendation", []recommendation{{4, t0.Add(-30 * time.Second)}}, 3, 6, time.Minute, 0, 4, "ScaleUpStabilized"},
		{"a scale-down window takes the highest recent recommendation", []recommendation{{8, t0.Add(-time.Minute)}}, 6, 2, 0, 5 * time.Minute, 6, "ScaleDownStabilized"},
		{"recommendations older than the scale-down window no longer hold it", []recommendation{{8, t0.Add(-10 * time.Minute)}}, 6, 2, 0, 5 * time.Minute, 2, "ScaleDownStabilized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &history{recommendations: c.history}
			got, reason, _ := h.stabilizeWithBehavior(c.current, c.desired, c.up, c.down, t0)
			if got != c.want || reason != c.wantReason {
				t.Errorf("got %d %s, want %d %s", got, reason, c.want, c.wantReason)
			}
		})
	}
}

func TestLimitByBehavior(t *testing.T) {
	upDefault := &autoscalingv2.HPAScalingRules{SelectPolicy: selectPolicy(autoscalingv2.MaxChangePolicySelect), Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}, {Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	downDefault := &autoscalingv2.HPAScalingRules{SelectPolicy: selectPolicy(autoscalingv2.MaxChangePolicySelect), Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	onePodPerMinute := &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}}
	minOfTwo := &autoscalingv2.HPAScalingRules{SelectPolicy: selectPolicy(autoscalingv2.MinChangePolicySelect), Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 60}, {Type: autoscalingv2.PercentScalingPolicy, Value: 10, PeriodSeconds: 60}}}
	disabled := &autoscalingv2.HPAScalingRules{SelectPolicy: selectPolicy(autoscalingv2.DisabledPolicySelect)}
	cases := []struct {
		name                       string
		up, down                   *autoscalingv2.HPAScalingRules
		ups, downs                 []scaleEvent
		current, desired, min, max int32
		want                       int32
		wantReason                 string
	}{
		{name: "the default scale-up allows the larger of 4 pods and 100%", up: upDefault, down: downDefault,
			current: 10, desired: 50, min: 1, max: 100, want: 20, wantReason: "ScaleUpLimit"},
		{name: "a small target may add 4 pods", up: upDefault, down: downDefault, current: 1, desired: 50, min: 1, max: 100, want: 5, wantReason: "ScaleUpLimit"},
		{name: "the maximum caps below the rate limit", up: upDefault, down: downDefault, current: 10, desired: 50, min: 1, max: 15, want: 15, wantReason: "TooManyReplicas"},
		{name: "changes made within the period count against it", up: onePodPerMinute, down: downDefault,
			ups: []scaleEvent{{change: 1, at: t0.Add(-30 * time.Second)}}, current: 4, desired: 8, min: 1, max: 10, want: 4, wantReason: "ScaleUpLimit"},
		{name: "changes older than the period do not", up: onePodPerMinute, down: downDefault,
			ups: []scaleEvent{{change: 1, at: t0.Add(-2 * time.Minute)}}, current: 4, desired: 8, min: 1, max: 10, want: 5, wantReason: "ScaleUpLimit"},
		{name: "selectPolicy Min takes the smallest change", up: minOfTwo, down: downDefault, current: 20, desired: 40, min: 1, max: 100, want: 22, wantReason: "ScaleUpLimit"},
		{name: "a disabled direction does not move", up: disabled, down: downDefault, current: 5, desired: 9, min: 1, max: 100, want: 5, wantReason: "ScaleUpLimit"},
		{name: "scale-down policies limit the pods removed", up: upDefault, down: onePodPerMinute, current: 6, desired: 2, min: 1, max: 10, want: 5, wantReason: "ScaleDownLimit"},
		{name: "the minimum holds a scale-down", up: upDefault, down: downDefault, current: 6, desired: 1, min: 3, max: 10, want: 3, wantReason: "TooFewReplicas"},
		{name: "a count within every limit goes through", up: upDefault, down: downDefault, current: 6, desired: 8, min: 1, max: 10, want: 8, wantReason: "DesiredWithinRange"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &history{ups: c.ups, downs: c.downs}
			b := &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: c.up, ScaleDown: c.down}
			got, reason, _ := h.limitByBehavior(c.current, c.desired, c.min, c.max, b, t0)
			if got != c.want || reason != c.wantReason {
				t.Errorf("got %d %s, want %d %s", got, reason, c.want, c.wantReason)
			}
		})
	}
}

func TestRecordScaleReusesOutdatedEvents(t *testing.T) {
	b := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp:   &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 60}}},
		ScaleDown: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 60}}},
	}
	h := &history{}
	h.recordScale(b, 2, 5, t0)
	h.recordScale(b, 5, 4, t0)
	if len(h.ups) != 1 || h.ups[0].change != 3 || len(h.downs) != 1 || h.downs[0].change != 1 {
		t.Fatalf("ups %v downs %v", h.ups, h.downs)
	}
	h.recordScale(b, 4, 6, t0.Add(2*time.Minute))
	if len(h.ups) != 1 || h.ups[0].change != 2 {
		t.Errorf("an outdated event was not reused: %v", h.ups)
	}
	h.recordScale(nil, 6, 9, t0)
	if len(h.ups) != 1 {
		t.Error("a change without behavior was recorded")
	}
}
