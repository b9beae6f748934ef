package autoscaling

import (
	"context"
	"reflect"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func int32p(v int32) *int32 { return &v }

func v2HPA() *autoscalingv2.HorizontalPodAutoscaler {
	mem := resource.MustParse("100Mi")
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{"keep": "me"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    int32p(2), MaxReplicas: 5,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &mem}}},
				cpuUtilizationMetric(50),
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: scaleDownDefaults()},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 3,
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: int32p(40), AverageValue: &mem}}}},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "Ready"}}},
	}
}

func TestV2ToV1KeepsTheCPUTargetAndAnnotatesTheRest(t *testing.T) {
	v1 := &autoscalingv1.HorizontalPodAutoscaler{}
	if err := ConvertV2ToV1(v2HPA(), v1); err != nil {
		t.Fatal(err)
	}
	if v1.Spec.TargetCPUUtilizationPercentage == nil || *v1.Spec.TargetCPUUtilizationPercentage != 50 {
		t.Errorf("targetCPUUtilizationPercentage %v, want 50", v1.Spec.TargetCPUUtilizationPercentage)
	}
	if v1.Status.CurrentCPUUtilizationPercentage == nil || *v1.Status.CurrentCPUUtilizationPercentage != 40 {
		t.Errorf("currentCPUUtilizationPercentage %v, want 40", v1.Status.CurrentCPUUtilizationPercentage)
	}
	for _, a := range []string{metricSpecsAnnotation, metricStatusesAnnotation, behaviorAnnotation, conditionsAnnotation, "keep"} {
		if _, ok := v1.Annotations[a]; !ok {
			t.Errorf("annotation %s missing: %v", a, v1.Annotations)
		}
	}
	if got := v1.Annotations[metricSpecsAnnotation]; got != `[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]` {
		t.Errorf("metrics annotation %s", got)
	}
}

func TestV2RoundTripsThroughV1(t *testing.T) {
	in := v2HPA()
	v1 := &autoscalingv1.HorizontalPodAutoscaler{}
	out := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := ConvertV2ToV1(in, v1); err != nil {
		t.Fatal(err)
	}
	if err := ConvertV1ToV2(v1, out); err != nil {
		t.Fatal(err)
	}
	// v1 puts the CPU target last, after the metrics it carries in annotations.
	if !equality.Semantic.DeepEqual(in, out) {
		t.Errorf("round trip changed the object:\n in %+v\nout %+v", in, out)
	}
}

func TestV1WithoutTargetGetsTheDefaultCPUTarget(t *testing.T) {
	v1 := &autoscalingv1.HorizontalPodAutoscaler{Spec: autoscalingv1.HorizontalPodAutoscalerSpec{MaxReplicas: 3}}
	out := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := ConvertV1ToV2(v1, out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Spec.Metrics, []autoscalingv2.MetricSpec{cpuUtilizationMetric(80)}) {
		t.Errorf("metrics %+v, want 80%% CPU", out.Spec.Metrics)
	}
	back := &autoscalingv1.HorizontalPodAutoscaler{}
	if err := ConvertV2ToV1(out, back); err != nil {
		t.Fatal(err)
	}
	if *back.Spec.TargetCPUUtilizationPercentage != 80 || back.Annotations != nil {
		t.Errorf("back in v1: target %v annotations %v", *back.Spec.TargetCPUUtilizationPercentage, back.Annotations)
	}
}

func TestConversionsAreRegisteredWithTheScheme(t *testing.T) {
	// The apiserver converts through a scheme; AddConversions must make that work.
	s := newScheme(t)
	v1 := &autoscalingv1.HorizontalPodAutoscaler{Spec: autoscalingv1.HorizontalPodAutoscalerSpec{MaxReplicas: 3, TargetCPUUtilizationPercentage: int32p(60)}}
	out := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := s.Convert(v1, out, nil); err != nil {
		t.Fatal(err)
	}
	if *out.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Errorf("converted %+v", out.Spec.Metrics)
	}
}

func TestHPADefaults(t *testing.T) {
	h := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: int32p(60)}}}}
	HorizontalPodAutoscalersV2().Strategy.Default(h)
	if *h.Spec.MinReplicas != 1 || len(h.Spec.Metrics) != 1 {
		t.Errorf("min %d metrics %v", *h.Spec.MinReplicas, h.Spec.Metrics)
	}
	up, down := h.Spec.Behavior.ScaleUp, h.Spec.Behavior.ScaleDown
	if len(up.Policies) != 2 || *up.StabilizationWindowSeconds != 0 || *down.StabilizationWindowSeconds != 60 || len(down.Policies) != 1 {
		t.Errorf("behavior up %+v down %+v", up, down)
	}
}

func TestHPAValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		want   []string
	}{
		{"a well-formed HPA is valid", nil, []string{}},
		{"max below min is refused", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 1 },
			[]string{"FieldValueInvalid spec.maxReplicas"}},
		{"a target without a group is refused",
			func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.APIVersion = "v1" },
			[]string{"FieldValueInvalid spec.scaleTargetRef.apiVersion"}},
		{"a metric whose type names another source is refused",
			func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Spec.Metrics[1].Type = autoscalingv2.PodsMetricSourceType
			},
			[]string{"FieldValueRequired spec.metrics[1].pods"}},
		{"zero minimum replicas need an object or external metric",
			func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = int32p(0) },
			[]string{"FieldValueInvalid spec.minReplicas", "FieldValueForbidden spec.metrics"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := v2HPA()
			if tt.mutate != nil {
				tt.mutate(h)
			}
			got := problems(HorizontalPodAutoscalersV2().Strategy.Validate(context.Background(), h))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestV1ObjectsAreValidatedAsV2(t *testing.T) {
	h := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "d"},
		MinReplicas:    int32p(5), MaxReplicas: 2, TargetCPUUtilizationPercentage: int32p(-3)}}
	got := problems(HorizontalPodAutoscalersV1().Strategy.Validate(context.Background(), h))
	want := []string{"FieldValueInvalid spec.maxReplicas", "FieldValueInvalid spec.metrics[0].resource.target.averageUtilization"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestHPATableShowsTargets(t *testing.T) {
	cells, _ := HorizontalPodAutoscalersV2().Table.Row(v2HPA())
	want := []interface{}{"web", "Deployment/web", "memory: 100Mi/100Mi, cpu: <unknown>/50%", "2", int64(5), int64(2), "<unknown>"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells %#v, want %#v", cells, want)
	}
	three := v2HPA()
	three.Spec.Metrics = append(three.Spec.Metrics, cpuUtilizationMetric(10))
	three.Status.CurrentMetrics = nil
	if got := formatMetrics(three.Spec.Metrics, nil); got != "memory: <unknown>/100Mi, cpu: <unknown>/50% + 1 more..." {
		t.Errorf("three metrics printed %q", got)
	}
}
