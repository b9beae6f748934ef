package podautoscaler

import (
	"errors"
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	resourcehelpers "k8s.io/component-helpers/resource"
)

// podMetric is one pod's usage of a resource, in milli-units.
type podMetric struct {
	value     int64
	timestamp time.Time
	window    time.Duration
}

// podMetrics holds usage by pod name.
type podMetrics map[string]podMetric

// timing says when a pod's CPU samples can be trusted: a pod within
// cpuInitialization of its start is counted only once Ready for a whole
// metric window; after it, a pod that has never been Ready since
// readinessDelay after its start is left out.
type timing struct {
	cpuInitialization time.Duration
	readinessDelay    time.Duration
	now               time.Time
}

// podGroups sorts the target's pods for one metric.
type podGroups struct {
	ready int
	// unready pods' samples are left out; on a scale-up they count as 0.
	unready map[string]bool
	// missing pods have no sample: on a scale-up they count as 0, on a
	// scale-down as using the target (or 100% of their request).
	missing map[string]bool
	// ignored pods (being deleted, failed) do not count at all.
	ignored map[string]bool
}

// groupPods sorts pods by whether their sample counts, as upstream does.
// Readiness matters for CPU only: starting pods burn CPU without serving.
func groupPods(pods []*corev1.Pod, metrics podMetrics, resource corev1.ResourceName, tm timing) podGroups {
	g := podGroups{unready: map[string]bool{}, missing: map[string]bool{}, ignored: map[string]bool{}}
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodFailed {
			g.ignored[p.Name] = true
			continue
		}
		if p.Status.Phase == corev1.PodPending {
			g.unready[p.Name] = true
			continue
		}
		m, ok := metrics[p.Name]
		if !ok {
			g.missing[p.Name] = true
			continue
		}
		if resource == corev1.ResourceCPU && cpuSampleUnready(p, m, tm) {
			g.unready[p.Name] = true
			continue
		}
		g.ready++
	}
	return g
}

func cpuSampleUnready(p *corev1.Pod, m podMetric, tm timing) bool {
	var ready *corev1.PodCondition
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			ready = &p.Status.Conditions[i]
		}
	}
	if ready == nil || p.Status.StartTime == nil {
		return true
	}
	start := p.Status.StartTime.Time
	if start.Add(tm.cpuInitialization).After(tm.now) {
		// Starting: the sample must come from a whole window of readiness.
		return ready.Status == corev1.ConditionFalse || m.timestamp.Before(ready.LastTransitionTime.Time.Add(m.window))
	}
	// Started long ago: left out only if it never became Ready.
	return ready.Status == corev1.ConditionFalse && start.Add(tm.readinessDelay).After(ready.LastTransitionTime.Time)
}

// podRequests returns each pod's request of a resource, in milli-units: the
// named container's, the pod-level request when the pod has one, or the sum
// of its containers' (restartable init containers included). A container
// without the request is an error.
func podRequests(pods []*corev1.Pod, container string, resource corev1.ResourceName) (map[string]int64, error) {
	out := make(map[string]int64, len(pods))
	for _, p := range pods {
		if container == "" && resourcehelpers.IsPodLevelRequestsSet(p) {
			q, ok := resourcehelpers.PodRequests(p, resourcehelpers.PodResourcesOptions{})[resource]
			if !ok {
				return nil, fmt.Errorf("missing pod-level request for %s in Pod %s", resource, p.Name)
			}
			out[p.Name] = q.MilliValue()
			continue
		}
		containers := append([]corev1.Container{}, p.Spec.Containers...)
		for _, c := range p.Spec.InitContainers {
			if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				containers = append(containers, c)
			}
		}
		var sum int64
		for _, c := range containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Resources.Requests[resource]
			if !ok {
				return nil, fmt.Errorf("missing request for %s in container %s of Pod %s", resource, c.Name, p.Name)
			}
			sum += q.MilliValue()
		}
		out[p.Name] = sum
	}
	return out, nil
}

// utilizationRatio compares the pods' total usage with their total request:
// utilization in percent, its ratio to the target, and the average raw usage.
func utilizationRatio(metrics podMetrics, requests map[string]int64, target int32) (ratio float64, utilization int32, rawAverage int64, err error) {
	var used, requested int64
	n := 0
	for name, m := range metrics {
		r, ok := requests[name]
		if !ok {
			continue
		}
		used += m.value
		requested += r
		n++
	}
	if requested == 0 {
		return 0, 0, 0, errors.New("no metrics returned matched known pods")
	}
	utilization = int32(used * 100 / requested)
	return float64(utilization) / float64(target), utilization, used / int64(n), nil
}

// usageRatio compares the pods' average usage with a target average.
func usageRatio(metrics podMetrics, target int64) (ratio float64, average int64) {
	var total int64
	for _, m := range metrics {
		total += m.value
	}
	average = total / int64(len(metrics))
	return float64(average) / float64(target), average
}

// within reports whether a usage ratio is close enough to 1 to change nothing.
func within(tolerance, ratio float64) bool {
	return math.Abs(1-ratio) <= tolerance
}

// proposal is the outcome of one metric: the replica count it asks for and
// the current value to report.
type proposal struct {
	replicas    int32
	utilization int32 // percent of request; for Utilization targets
	raw         int64 // average usage in milli-units
	timestamp   time.Time
}

// utilizationReplicas is the replica count a Utilization target asks for.
func utilizationReplicas(current, target int32, resource corev1.ResourceName, container string, tolerance float64,
	pods []*corev1.Pod, metrics podMetrics, tm timing) (proposal, error) {
	if len(pods) == 0 {
		return proposal{}, errors.New("no pods returned by selector while calculating replica count")
	}
	g := groupPods(pods, metrics, resource, tm)
	metrics = withoutPods(metrics, g.ignored, g.unready)
	if len(metrics) == 0 {
		return proposal{}, errors.New("did not receive metrics for targeted pods (pods might be unready)")
	}
	requests, err := podRequests(pods, container, resource)
	if err != nil {
		return proposal{}, err
	}
	ratio, utilization, raw, err := utilizationRatio(metrics, requests, target)
	if err != nil {
		return proposal{}, err
	}
	out := proposal{replicas: current, utilization: utilization, raw: raw}
	scaleUpWithUnready := len(g.unready) > 0 && ratio > 1
	if !scaleUpWithUnready && len(g.missing) == 0 {
		if !within(tolerance, ratio) {
			out.replicas = int32(math.Ceil(ratio * float64(g.ready)))
		}
		return out, nil
	}
	// Fill in the pods without a sample, pessimistically for the direction.
	if ratio < 1 {
		fallback := int64(max(100, target))
		for name := range g.missing {
			metrics[name] = podMetric{value: requests[name] * fallback / 100}
		}
	} else if ratio > 1 {
		for name := range g.missing {
			metrics[name] = podMetric{}
		}
	}
	if scaleUpWithUnready {
		for name := range g.unready {
			metrics[name] = podMetric{}
		}
	}
	newRatio, _, _, err := utilizationRatio(metrics, requests, target)
	if err != nil {
		return out, err
	}
	out.replicas = rebalanced(current, ratio, newRatio, len(metrics), tolerance)
	return out, nil
}

// valueReplicas is the replica count an AverageValue target asks for (missing
// pods count as using exactly the target on a scale-down).
func valueReplicas(current int32, target int64, resource corev1.ResourceName, tolerance float64,
	pods []*corev1.Pod, metrics podMetrics, tm timing) (proposal, error) {
	if len(pods) == 0 {
		return proposal{}, errors.New("no pods returned by selector while calculating replica count")
	}
	g := groupPods(pods, metrics, resource, tm)
	metrics = withoutPods(metrics, g.ignored, g.unready)
	if len(metrics) == 0 {
		return proposal{}, errors.New("did not receive metrics for targeted pods (pods might be unready)")
	}
	ratio, usage := usageRatio(metrics, target)
	out := proposal{replicas: current, raw: usage}
	scaleUpWithUnready := len(g.unready) > 0 && ratio > 1
	if !scaleUpWithUnready && len(g.missing) == 0 {
		if !within(tolerance, ratio) {
			out.replicas = int32(math.Ceil(ratio * float64(g.ready)))
		}
		return out, nil
	}
	if ratio < 1 {
		for name := range g.missing {
			metrics[name] = podMetric{value: target}
		}
	} else if ratio > 1 {
		for name := range g.missing {
			metrics[name] = podMetric{}
		}
	}
	if scaleUpWithUnready {
		for name := range g.unready {
			metrics[name] = podMetric{}
		}
	}
	newRatio, _ := usageRatio(metrics, target)
	out.replicas = rebalanced(current, ratio, newRatio, len(metrics), tolerance)
	return out, nil
}

// rebalanced is the replica count after the missing and unready pods were
// filled in: no change when it is small, or when filling in reversed the
// direction of the change.
func rebalanced(current int32, ratio, newRatio float64, counted int, tolerance float64) int32 {
	if within(tolerance, newRatio) || ratio < 1 && newRatio > 1 || ratio > 1 && newRatio < 1 {
		return current
	}
	replicas := int32(math.Ceil(newRatio * float64(counted)))
	if newRatio < 1 && replicas > current || newRatio > 1 && replicas < current {
		return current
	}
	return replicas
}

// withoutPods returns a copy of metrics without the named pods.
func withoutPods(metrics podMetrics, drop ...map[string]bool) podMetrics {
	out := make(podMetrics, len(metrics))
	for name, m := range metrics {
		skip := false
		for _, d := range drop {
			if d[name] {
				skip = true
			}
		}
		if !skip {
			out[name] = m
		}
	}
	return out
}
