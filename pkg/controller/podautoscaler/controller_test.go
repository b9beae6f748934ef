package podautoscaler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	scalefake "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	metricsapi "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// fakeMetrics serves fixed CPU usage per pod name.
type fakeMetrics struct {
	cpu map[string]string
	err error
}

func (f *fakeMetrics) PodMetrics(_ context.Context, ns string, _ labels.Selector) ([]metricsapi.PodMetrics, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []metricsapi.PodMetrics
	for name, cpu := range f.cpu {
		out = append(out, metricsapi.PodMetrics{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Timestamp: metav1.NewTime(t0),
			Window:     metav1.Duration{Duration: 30 * time.Second},
			Containers: []metricsapi.ContainerMetrics{{Name: "c", Usage: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}})
	}
	return out, nil
}

type fixture struct {
	client   *fake.Clientset
	ctrl     *Controller
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
	scales   *scalefake.FakeScaleClient
	metrics  *fakeMetrics
	replicas int32
	updated  []int32
}

func newFixture(t *testing.T, hpa *autoscalingv2.HorizontalPodAutoscaler, replicas int32, ps ...*corev1.Pod) *fixture {
	t.Helper()
	objs := []runtime.Object{hpa}
	for _, p := range ps {
		objs = append(objs, p)
	}
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(t0)
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "apps", Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	fx := &fixture{client: client, clock: clk, recorder: events.NewFakeRecorder(100), scales: &scalefake.FakeScaleClient{},
		metrics: &fakeMetrics{cpu: map[string]string{}}, replicas: replicas}
	fx.scales.AddReactor("get", "deployments", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.(clienttesting.GetAction).GetName() != "web" {
			return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "deployments"}, a.(clienttesting.GetAction).GetName())
		}
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
			Spec: autoscalingv1.ScaleSpec{Replicas: fx.replicas}, Status: autoscalingv1.ScaleStatus{Replicas: fx.replicas, Selector: "app=web"}}, nil
	})
	fx.scales.AddReactor("update", "deployments", func(a clienttesting.Action) (bool, runtime.Object, error) {
		sc := a.(clienttesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		fx.replicas = sc.Spec.Replicas
		fx.updated = append(fx.updated, sc.Spec.Replicas)
		return true, sc, nil
	})
	c, err := New(Config{Client: client, Autoscalers: f.Autoscaling().V2().HorizontalPodAutoscalers(), Pods: f.Core().V1().Pods(),
		Scales: fx.scales, Mapper: mapper, Metrics: fx.metrics, Recorder: fx.recorder, Workers: 1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Autoscaling().V2().HorizontalPodAutoscalers().Informer().GetIndexer().Add(hpa)
	for _, p := range ps {
		_ = f.Core().V1().Pods().Informer().GetIndexer().Add(p)
	}
	c.enqueue(hpa)
	fx.ctrl = c
	return fx
}

func (f *fixture) sync(t *testing.T) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	err := f.ctrl.sync(context.Background(), "ns/web")
	if d, ok := worker.RequeueDelay(err); !ok || d != DefaultSyncPeriod {
		t.Fatalf("sync returned %v, want a look again after the sync period", err)
	}
	got, err := f.client.AutoscalingV2().HorizontalPodAutoscalers("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What the informer would bring back.
	_ = f.ctrl.cfg.Autoscalers.Informer().GetIndexer().Update(got)
	return got
}

func (f *fixture) events() string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return strings.Join(out, "\n")
		}
	}
}

func cpuHPA(target string, utilization int32) *autoscalingv2.HorizontalPodAutoscaler {
	one := int32(1)
	return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
			MinReplicas:    &one, MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &utilization}}}},
		}}
}

func condition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) autoscalingv2.HorizontalPodAutoscalerCondition {
	for _, c := range h.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return autoscalingv2.HorizontalPodAutoscalerCondition{}
}

func TestBusyPodsScaleTheTargetUpWithUpstreamsEventAndConditions(t *testing.T) {
	f := newFixture(t, cpuHPA("web", 50), 2, runningPod("a"), runningPod("b"))
	f.metrics.cpu = map[string]string{"a": "900m", "b": "900m"}
	got := f.sync(t)
	if len(f.updated) != 1 || f.updated[0] != 4 {
		t.Fatalf("scale updates %v", f.updated)
	}
	if ev := f.events(); !strings.Contains(ev, "Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target") {
		t.Errorf("events:\n%s", ev)
	}
	st := got.Status
	if st.CurrentReplicas != 2 || st.DesiredReplicas != 4 || st.LastScaleTime == nil || len(st.CurrentMetrics) != 1 ||
		*st.CurrentMetrics[0].Resource.Current.AverageUtilization != 90 || st.CurrentMetrics[0].Resource.Current.AverageValue.String() != "900m" {
		t.Errorf("status %+v", st)
	}
	for typ, want := range map[autoscalingv2.HorizontalPodAutoscalerConditionType]string{
		autoscalingv2.AbleToScale: "SucceededRescale", autoscalingv2.ScalingActive: "ValidMetricFound", autoscalingv2.ScalingLimited: "DesiredWithinRange"} {
		if c := condition(got, typ); c.Reason != want {
			t.Errorf("%s = %+v, want %s", typ, c, want)
		}
	}
	if c := condition(got, autoscalingv2.ScalingActive); c.Message != "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" {
		t.Errorf("ScalingActive message %q", c.Message)
	}
}

func TestIdlePodsAreScaledDownOnlyAfterTheStabilizationWindow(t *testing.T) {
	f := newFixture(t, cpuHPA("web", 50), 4, runningPod("a"), runningPod("b"), runningPod("c"), runningPod("d"))
	f.metrics.cpu = map[string]string{"a": "100m", "b": "100m", "c": "100m", "d": "100m"}
	got := f.sync(t)
	if len(f.updated) != 0 {
		t.Fatalf("scaled down at once: %v", f.updated)
	}
	if c := condition(got, autoscalingv2.AbleToScale); c.Reason != "ScaleDownStabilized" {
		t.Errorf("AbleToScale %+v", c)
	}
	f.clock.Step(DefaultDownscaleStabilization + time.Second)
	f.sync(t)
	if len(f.updated) != 1 || f.updated[0] != 1 {
		t.Fatalf("scale updates %v", f.updated)
	}
	if ev := f.events(); !strings.Contains(ev, "New size: 1; reason: All metrics below target") {
		t.Errorf("events:\n%s", ev)
	}
}

func TestMissingMetricsAreReportedAsUpstreamDoes(t *testing.T) {
	f := newFixture(t, cpuHPA("web", 50), 2, runningPod("a"), runningPod("b"))
	got := f.sync(t)
	if len(f.updated) != 0 {
		t.Fatalf("scaled without metrics: %v", f.updated)
	}
	if c := condition(got, autoscalingv2.AbleToScale); c.Status != corev1.ConditionTrue || c.Reason != "SucceededGetScale" {
		t.Errorf("AbleToScale %+v", c)
	}
	want := "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
	if c := condition(got, autoscalingv2.ScalingActive); c.Status != corev1.ConditionFalse || c.Reason != "FailedGetResourceMetric" || c.Message != want {
		t.Errorf("ScalingActive %+v", c)
	}
	ev := f.events()
	for _, w := range []string{
		"Warning FailedGetResourceMetric failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
		"Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
	} {
		if !strings.Contains(ev, w) {
			t.Errorf("events lack %q:\n%s", w, ev)
		}
	}
	if got.Status.CurrentReplicas != 2 {
		t.Errorf("status %+v", got.Status)
	}
}

func TestAMissingTargetIsFailedGetScale(t *testing.T) {
	f := newFixture(t, cpuHPA("nope", 50), 2)
	got := f.sync(t)
	want := `the HPA controller was unable to get the target's current scale: deployments.apps "nope" not found`
	if c := condition(got, autoscalingv2.AbleToScale); c.Status != corev1.ConditionFalse || c.Reason != "FailedGetScale" || c.Message != want {
		t.Errorf("AbleToScale %+v", c)
	}
	if ev := f.events(); !strings.Contains(ev, `Warning FailedGetScale deployments.apps "nope" not found`) {
		t.Errorf("events:\n%s", ev)
	}
}

func TestATargetScaledToZeroDisablesScaling(t *testing.T) {
	f := newFixture(t, cpuHPA("web", 50), 0)
	got := f.sync(t)
	if c := condition(got, autoscalingv2.ScalingActive); c.Reason != "ScalingDisabled" || c.Message != "scaling is disabled since the replica count of the target is zero" {
		t.Errorf("ScalingActive %+v", c)
	}
	if len(f.updated) != 0 {
		t.Errorf("scaled: %v", f.updated)
	}
}

func TestATargetAboveMaxIsBroughtBackWithoutMetrics(t *testing.T) {
	f := newFixture(t, cpuHPA("web", 50), 12)
	f.metrics.err = errors.New("unreachable")
	f.sync(t)
	if len(f.updated) != 1 || f.updated[0] != 10 {
		t.Fatalf("scale updates %v", f.updated)
	}
	if ev := f.events(); !strings.Contains(ev, "New size: 10; reason: Current number of replicas above Spec.MaxReplicas") {
		t.Errorf("events:\n%s", ev)
	}
}

func TestTwoAutoscalersOverTheSamePodsAreAmbiguous(t *testing.T) {
	f := newFixture(t, cpuHPA("web", 50), 2, runningPod("a"))
	f.ctrl.selectors["ns/other"] = labels.SelectorFromSet(labels.Set{"app": "web"})
	got := f.sync(t)
	if c := condition(got, autoscalingv2.ScalingActive); c.Reason != "AmbiguousSelector" ||
		!strings.Contains(c.Message, "pods by selector app=web are controlled by multiple HPAs") {
		t.Errorf("ScalingActive %+v", c)
	}
}

func TestBehaviorPoliciesLimitTheScaleUp(t *testing.T) {
	hpa := cpuHPA("web", 50)
	hpa.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: window(0),
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}}}
	f := newFixture(t, hpa, 2, runningPod("a"), runningPod("b"))
	f.metrics.cpu = map[string]string{"a": "1", "b": "1"}
	got := f.sync(t)
	if len(f.updated) != 1 || f.updated[0] != 3 {
		t.Fatalf("scale updates %v", f.updated)
	}
	if c := condition(got, autoscalingv2.ScalingLimited); c.Status != corev1.ConditionTrue || c.Reason != "ScaleUpLimit" {
		t.Errorf("ScalingLimited %+v", c)
	}
	// Within the same minute, the policy allows nothing more.
	f.clock.Step(20 * time.Second)
	f.sync(t)
	if len(f.updated) != 1 {
		t.Errorf("scaled again within the period: %v", f.updated)
	}
}
