package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// sync reconciles an autoscaler and asks to be called again after the sync
// period, whatever happened: a failure is reported in the status and events,
// and retrying sooner would not help.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	hpa, err := c.hpas.HorizontalPodAutoscalers(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		delete(c.histories, key)
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.reconcile(ctx, hpa.DeepCopy(), key); err != nil {
		c.log.Info("autoscaler sync failed", "hpa", key, "err", err)
	}
	return worker.RequeueAfter(c.cfg.SyncPeriod)
}

// reconcile does one pass of an autoscaler (a private copy).
func (c *Controller) reconcile(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, key string) error {
	original := hpa.Status.DeepCopy()
	ref := hpa.Spec.ScaleTargetRef
	reference := fmt.Sprintf("%s/%s/%s", ref.Kind, hpa.Namespace, ref.Name)

	sc, gr, err := c.targetScale(ctx, hpa)
	if err != nil {
		c.event(hpa, corev1.EventTypeWarning, "FailedGetScale", "%s", err.Error())
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale", "the HPA controller was unable to get the target's current scale: %v", err)
		c.writeStatus(ctx, original, hpa)
		return fmt.Errorf("failed to query scale subresource for %s: %v", reference, err)
	}
	c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
	current := sc.Spec.Replicas
	h := c.historyOf(key)
	now := c.clock.Now()
	if len(h.recommendations) == 0 {
		h.recommendations = []recommendation{{current, now}}
	}
	minReplicas := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minReplicas = *hpa.Spec.MinReplicas
	}

	var (
		desired  int32
		reason   string
		statuses []autoscalingv2.MetricStatus
		retErr   error
	)
	rescale := true
	switch {
	case current == 0 && minReplicas != 0:
		// Scaled to zero by hand: autoscaling is off until someone scales it up.
		desired, rescale = 0, false
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
	case current > hpa.Spec.MaxReplicas:
		desired, reason = hpa.Spec.MaxReplicas, "Current number of replicas above Spec.MaxReplicas"
	case current < minReplicas:
		desired, reason = minReplicas, "Current number of replicas below Spec.MinReplicas"
	default:
		proposed, metric, sts, err := c.metricsReplicas(ctx, hpa, sc)
		statuses = sts
		if err != nil && proposed == -1 {
			c.setStatus(hpa, current, hpa.Status.DesiredReplicas, statuses, false)
			c.writeStatus(ctx, original, hpa)
			c.event(hpa, corev1.EventTypeWarning, "FailedComputeMetricsReplicas", "%s", err.Error())
			return fmt.Errorf("failed to compute desired number of replicas based on listed metrics for %s: %v", reference, err)
		}
		// Some metrics failed but others ask for more: scale, and say so.
		retErr = err
		desired = proposed
		if desired > current {
			reason = metric + " above target"
		} else if desired < current {
			reason = "All metrics below target"
		}
		desired = c.normalize(hpa, h, current, desired, minReplicas, now)
		rescale = desired != current
	}

	if rescale {
		if err := c.writeScale(ctx, hpa.Namespace, gr, sc, desired); err != nil {
			c.event(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", desired, reason, err.Error())
			c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale", "the HPA controller was unable to update the target scale: %v", err)
			c.setStatus(hpa, current, hpa.Status.DesiredReplicas, statuses, false)
			c.writeStatus(ctx, original, hpa)
			return fmt.Errorf("failed to rescale %s: %v", reference, err)
		}
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale", "the HPA controller was able to update the target scale to %d", desired)
		c.event(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", desired, reason)
		h.recordScale(hpa.Spec.Behavior, current, desired, now)
		c.log.Info("rescaled", "hpa", key, "from", current, "to", desired, "reason", reason)
	} else {
		desired = current
	}
	c.setStatus(hpa, current, desired, statuses, rescale)
	if err := c.writeStatus(ctx, original, hpa); err != nil {
		return err
	}
	return retErr
}

// targetScale reads the scale of the autoscaler's target, trying each
// resource its kind maps to.
func (c *Controller) targetScale(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler) (*autoscalingv1.Scale, schema.GroupResource, error) {
	ref := hpa.Spec.ScaleTargetRef
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, schema.GroupResource{}, err
	}
	mappings, err := c.cfg.Mapper.RESTMappings(schema.GroupKind{Group: gv.Group, Kind: ref.Kind})
	if err != nil {
		return nil, schema.GroupResource{}, err
	}
	var first error
	for _, m := range mappings {
		gr := m.Resource.GroupResource()
		sc, err := c.cfg.Scales.Scales(hpa.Namespace).Get(ctx, gr, ref.Name, metav1.GetOptions{})
		if err == nil {
			return sc, gr, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = errors.New("unrecognized resource")
	}
	return nil, schema.GroupResource{}, first
}

// writeScale sets the target's replicas, reading the scale again on conflicts.
func (c *Controller) writeScale(ctx context.Context, ns string, gr schema.GroupResource, sc *autoscalingv1.Scale, replicas int32) error {
	scales := c.cfg.Scales.Scales(ns)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc.Spec.Replicas = replicas
		_, err := scales.Update(ctx, gr, sc, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if latest, gerr := scales.Get(ctx, gr, sc.Name, metav1.GetOptions{}); gerr == nil {
			*sc = *latest
		}
		return err
	})
}

// metricsReplicas computes what every metric asks for and returns the
// largest, with the metric that asked for it and the metrics' current values.
// -1 means no count could be computed (the error says why).
func (c *Controller) metricsReplicas(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, sc *autoscalingv1.Scale) (int32, string, []autoscalingv2.MetricStatus, error) {
	selector, err := c.targetSelector(hpa, sc.Status.Selector)
	if err != nil {
		return -1, "", nil, err
	}
	specs := hpa.Spec.Metrics
	statuses := make([]autoscalingv2.MetricStatus, len(specs))
	var (
		replicas    int32
		metric      string
		invalid     int
		firstErr    error
		firstReason autoscalingv2.HorizontalPodAutoscalerCondition
	)
	for i, spec := range specs {
		p, name, cond, err := c.metricReplicas(ctx, hpa, spec, sc.Spec.Replicas, selector, &statuses[i])
		if err != nil {
			if invalid == 0 {
				firstErr, firstReason = err, cond
			}
			invalid++
			continue
		}
		if replicas == 0 || p > replicas {
			replicas, metric = p, name
		}
	}
	if firstErr != nil {
		firstErr = fmt.Errorf("invalid metrics (%v invalid out of %v), first error is: %v", invalid, len(specs), firstErr)
	}
	// Nothing computed, or a scale-down while some metric is blind: do nothing.
	if invalid >= len(specs) || invalid > 0 && replicas < sc.Spec.Replicas {
		c.setCondition(hpa, firstReason.Type, firstReason.Status, firstReason.Reason, "%s", firstReason.Message)
		return -1, "", statuses, firstErr
	}
	c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", "the HPA was able to successfully calculate a replica count from %s", metric)
	return replicas, metric, statuses, firstErr
}

// targetSelector parses the target's selector and checks no other autoscaler
// scales the same pods.
func (c *Controller) targetSelector(hpa *autoscalingv2.HorizontalPodAutoscaler, raw string) (labels.Selector, error) {
	if raw == "" {
		c.event(hpa, corev1.EventTypeWarning, "SelectorRequired", "selector is required")
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", "the HPA target's scale is missing a selector")
		return nil, errors.New("selector is required")
	}
	sel, err := labels.Parse(raw)
	if err != nil {
		msg := fmt.Sprintf("couldn't convert selector into a corresponding internal selector object: %v", err)
		c.event(hpa, corev1.EventTypeWarning, "InvalidSelector", "%s", msg)
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", "%s", msg)
		return nil, errors.New(msg)
	}
	key := hpa.Namespace + "/" + hpa.Name
	pods, err := c.pods.Pods(hpa.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, known := c.selectors[key]; known {
		c.selectors[key] = sel
	}
	var others []string
	for other, osel := range c.selectors {
		if other == key || !sameNamespace(other, hpa.Namespace) {
			continue
		}
		for _, p := range pods {
			if osel.Matches(labels.Set(p.Labels)) {
				others = append(others, other)
				break
			}
		}
	}
	c.mu.Unlock()
	if len(others) > 0 {
		msg := fmt.Sprintf("pods by selector %v are controlled by multiple HPAs: %v", raw, append([]string{key}, others...))
		c.event(hpa, corev1.EventTypeWarning, "AmbiguousSelector", "%s", msg)
		c.setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "AmbiguousSelector", "%s", msg)
		return nil, errors.New(msg)
	}
	return sel, nil
}

func sameNamespace(key, ns string) bool {
	kns, _, err := cache.SplitMetaNamespaceKey(key)
	return err == nil && kns == ns
}

// metricReplicas computes one metric's proposal and status; on failure the
// condition to report comes with the error (and a warning event is recorded).
func (c *Controller) metricReplicas(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, spec autoscalingv2.MetricSpec,
	current int32, selector labels.Selector, status *autoscalingv2.MetricStatus) (int32, string, autoscalingv2.HorizontalPodAutoscalerCondition, error) {
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			break
		}
		p, name, cur, err := c.resourceProposal(ctx, hpa, current, spec.Resource.Target, spec.Resource.Name, "", selector)
		if err != nil {
			cond := c.unableToCompute(hpa, "FailedGetResourceMetric", err)
			return 0, "", cond, fmt.Errorf("failed to get %s resource metric value: %v", spec.Resource.Name, err)
		}
		*status = autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: spec.Resource.Name, Current: cur}}
		return p, name, autoscalingv2.HorizontalPodAutoscalerCondition{}, nil
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource == nil {
			break
		}
		cr := spec.ContainerResource
		p, name, cur, err := c.resourceProposal(ctx, hpa, current, cr.Target, cr.Name, cr.Container, selector)
		if err != nil {
			cond := c.unableToCompute(hpa, "FailedGetContainerResourceMetric", err)
			return 0, "", cond, fmt.Errorf("failed to get %s container metric value: %v", cr.Container, err)
		}
		*status = autoscalingv2.MetricStatus{Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: cr.Name, Container: cr.Container, Current: cur}}
		return p, name, autoscalingv2.HorizontalPodAutoscalerCondition{}, nil
	case autoscalingv2.PodsMetricSourceType:
		if spec.Pods == nil {
			break
		}
		err := fmt.Errorf("unable to get metric %s: %v", spec.Pods.Metric.Name, errNoCustomMetrics)
		cond := c.unableToCompute(hpa, "FailedGetPodsMetric", err)
		return 0, "", cond, fmt.Errorf("failed to get pods metric value: %v", err)
	case autoscalingv2.ObjectMetricSourceType:
		if spec.Object == nil {
			break
		}
		o := spec.Object
		err := fmt.Errorf("unable to get metric %s: %v on %s %s/%s", o.Metric.Name, o.DescribedObject.Kind, hpa.Namespace, o.DescribedObject.Name, errNoCustomMetrics)
		cond := c.unableToCompute(hpa, "FailedGetObjectMetric", err)
		return 0, "", cond, fmt.Errorf("failed to get object metric value: %v", err)
	case autoscalingv2.ExternalMetricSourceType:
		if spec.External == nil {
			break
		}
		e := spec.External
		err := fmt.Errorf("unable to get external metric %s/%s/%+v: %v", hpa.Namespace, e.Metric.Name, e.Metric.Selector, errNoCustomMetrics)
		cond := c.unableToCompute(hpa, "FailedGetExternalMetric", err)
		return 0, "", cond, fmt.Errorf("failed to get %s external metric value: %v", e.Metric.Name, err)
	}
	err := fmt.Errorf("unknown metric source type %q", string(spec.Type))
	return 0, "", c.unableToCompute(hpa, "InvalidMetricSourceType", err), err
}

// resourceProposal computes a Resource or ContainerResource metric.
func (c *Controller) resourceProposal(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, current int32, target autoscalingv2.MetricTarget,
	res corev1.ResourceName, container string, selector labels.Selector) (int32, string, autoscalingv2.MetricValueStatus, error) {
	tm := timing{cpuInitialization: c.cfg.CPUInitializationPeriod, readinessDelay: c.cfg.InitialReadinessDelay, now: c.clock.Now()}
	if target.AverageValue != nil {
		p, err := c.valueProposal(ctx, hpa.Namespace, current, target.AverageValue.MilliValue(), res, container, selector, tm)
		if err != nil {
			return 0, "", autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s usage: %v", res, err)
		}
		q := quantity(res, p.raw)
		return p.replicas, fmt.Sprintf("%s resource", res), autoscalingv2.MetricValueStatus{AverageValue: &q}, nil
	}
	if target.AverageUtilization == nil {
		return 0, "", autoscalingv2.MetricValueStatus{}, errors.New("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set")
	}
	metrics, _, err := resourceMetric(ctx, c.cfg.Metrics, res, hpa.Namespace, selector, container)
	if err != nil {
		return 0, "", autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s utilization: unable to get metrics for resource %s: %v", res, res, err)
	}
	pods, err := c.pods.Pods(hpa.Namespace).List(selector)
	if err != nil {
		return 0, "", autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s utilization: unable to get pods while calculating replica count: %v", res, err)
	}
	p, err := utilizationReplicas(current, *target.AverageUtilization, res, container, c.cfg.Tolerance, pods, metrics, tm)
	if err != nil {
		return 0, "", autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s utilization: %v", res, err)
	}
	name := fmt.Sprintf("%s resource utilization (percentage of request)", res)
	if container != "" {
		name = fmt.Sprintf("%s container resource utilization (percentage of request)", res)
	}
	q := quantity(res, p.raw)
	u := p.utilization
	return p.replicas, name, autoscalingv2.MetricValueStatus{AverageUtilization: &u, AverageValue: &q}, nil
}

// valueProposal computes an AverageValue target of a resource.
func (c *Controller) valueProposal(ctx context.Context, ns string, current int32, target int64, res corev1.ResourceName, container string,
	selector labels.Selector, tm timing) (proposal, error) {
	metrics, _, err := resourceMetric(ctx, c.cfg.Metrics, res, ns, selector, container)
	if err != nil {
		return proposal{}, fmt.Errorf("unable to get metrics for resource %s: %v", res, err)
	}
	pods, err := c.pods.Pods(ns).List(selector)
	if err != nil {
		return proposal{}, fmt.Errorf("unable to get pods while calculating replica count: %v", err)
	}
	return valueReplicas(current, target, res, c.cfg.Tolerance, pods, metrics, tm)
}

// quantity prints raw usage as metrics-server does: memory in binary units.
func quantity(res corev1.ResourceName, milli int64) resource.Quantity {
	format := resource.DecimalSI
	if res == corev1.ResourceMemory {
		format = resource.BinarySI
	}
	return *resource.NewMilliQuantity(milli, format)
}

// unableToCompute records a metric's failure and returns the ScalingActive
// condition that reports it.
func (c *Controller) unableToCompute(hpa *autoscalingv2.HorizontalPodAutoscaler, reason string, err error) autoscalingv2.HorizontalPodAutoscalerCondition {
	c.event(hpa, corev1.EventTypeWarning, reason, "%s", err.Error())
	return autoscalingv2.HorizontalPodAutoscalerCondition{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: reason,
		Message: fmt.Sprintf("the HPA was unable to compute the replica count: %v", err)}
}

// normalize stabilizes and limits the metrics' count, setting the AbleToScale
// and ScalingLimited conditions that explain the result.
func (c *Controller) normalize(hpa *autoscalingv2.HorizontalPodAutoscaler, h *history, current, desired, minReplicas int32, now time.Time) int32 {
	var stabilized int32
	var reason, message string
	b := hpa.Spec.Behavior
	if b == nil {
		stabilized = h.stabilize(desired, c.cfg.DownscaleStabilization, now)
		reason, message = "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"
	} else {
		b = c.withDefaultWindows(b)
		stabilized, reason, message = h.stabilizeWithBehavior(current, desired, windowOf(b.ScaleUp), windowOf(b.ScaleDown), now)
	}
	if stabilized != desired {
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, reason, "%s", message)
	} else {
		c.setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size")
	}
	var limited int32
	if b == nil {
		limited, reason, message = limitByRules(current, stabilized, minReplicas, hpa.Spec.MaxReplicas)
	} else {
		limited, reason, message = h.limitByBehavior(current, stabilized, minReplicas, hpa.Spec.MaxReplicas, b, now)
	}
	status := corev1.ConditionTrue
	if limited == stabilized {
		status = corev1.ConditionFalse
	}
	c.setCondition(hpa, autoscalingv2.ScalingLimited, status, reason, "%s", message)
	return limited
}

// withDefaultWindows fills what a behavior leaves out: the scale-down window
// is the controller's, a missing direction gets upstream's default rules.
func (c *Controller) withDefaultWindows(b *autoscalingv2.HorizontalPodAutoscalerBehavior) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	out := b.DeepCopy()
	if out.ScaleUp == nil {
		zero := int32(0)
		maxPolicy := autoscalingv2.MaxChangePolicySelect
		out.ScaleUp = &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &zero, SelectPolicy: &maxPolicy, Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}, {Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	}
	if out.ScaleDown == nil {
		maxPolicy := autoscalingv2.MaxChangePolicySelect
		out.ScaleDown = &autoscalingv2.HPAScalingRules{SelectPolicy: &maxPolicy, Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	}
	if out.ScaleDown.StabilizationWindowSeconds == nil {
		w := int32(c.cfg.DownscaleStabilization.Seconds())
		out.ScaleDown.StabilizationWindowSeconds = &w
	}
	return out
}

func windowOf(r *autoscalingv2.HPAScalingRules) time.Duration {
	if r == nil || r.StabilizationWindowSeconds == nil {
		return 0
	}
	return time.Duration(*r.StabilizationWindowSeconds) * time.Second
}

// setStatus sets the replica counts and metrics, keeping the conditions and
// the last scale time (now, when it scaled).
func (c *Controller) setStatus(hpa *autoscalingv2.HorizontalPodAutoscaler, current, desired int32, metrics []autoscalingv2.MetricStatus, rescaled bool) {
	hpa.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: current, DesiredReplicas: desired,
		LastScaleTime: hpa.Status.LastScaleTime, CurrentMetrics: metrics, Conditions: hpa.Status.Conditions}
	if rescaled {
		now := metav1.NewTime(c.clock.Now())
		hpa.Status.LastScaleTime = &now
	}
}

// writeStatus stores the status when it changed; a failure is also an event.
func (c *Controller) writeStatus(ctx context.Context, original *autoscalingv2.HorizontalPodAutoscalerStatus, hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	if apiequality.Semantic.DeepEqual(original, &hpa.Status) {
		return nil
	}
	if _, err := c.cfg.Client.AutoscalingV2().HorizontalPodAutoscalers(hpa.Namespace).UpdateStatus(ctx, hpa, metav1.UpdateOptions{}); err != nil {
		c.event(hpa, corev1.EventTypeWarning, "FailedUpdateStatus", "%s", err.Error())
		return fmt.Errorf("failed to update status for %s: %v", hpa.Name, err)
	}
	return nil
}

// setCondition sets a condition, moving its transition time only when its
// status changes.
func (c *Controller) setCondition(hpa *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType,
	status corev1.ConditionStatus, reason, format string, args ...interface{}) {
	conds := hpa.Status.Conditions
	i := 0
	for ; i < len(conds) && conds[i].Type != t; i++ {
	}
	if i == len(conds) {
		conds = append(conds, autoscalingv2.HorizontalPodAutoscalerCondition{Type: t})
	}
	if conds[i].Status != status {
		conds[i].LastTransitionTime = metav1.NewTime(c.clock.Now())
	}
	conds[i].Status, conds[i].Reason, conds[i].Message = status, reason, fmt.Sprintf(format, args...)
	hpa.Status.Conditions = conds
}

func (c *Controller) event(hpa *autoscalingv2.HorizontalPodAutoscaler, eventType, reason, format string, args ...interface{}) {
	c.cfg.Recorder.Eventf(hpa, nil, eventType, reason, "Autoscale", format, args...)
}
