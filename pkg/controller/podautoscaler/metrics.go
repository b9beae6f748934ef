package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	metricsapi "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsv1beta1 "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"
)

// MetricsSource gives pods' resource usage, as the metrics.k8s.io API does.
// Tests give a fake.
type MetricsSource interface {
	PodMetrics(ctx context.Context, namespace string, selector labels.Selector) ([]metricsapi.PodMetrics, error)
}

// ResourceMetrics is the MetricsSource reading the metrics.k8s.io API.
type ResourceMetrics struct {
	Client metricsv1beta1.PodMetricsesGetter
}

// PodMetrics lists the usage of the pods a selector picks.
func (r ResourceMetrics) PodMetrics(ctx context.Context, namespace string, selector labels.Selector) ([]metricsapi.PodMetrics, error) {
	list, err := r.Client.PodMetricses(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// errNoCustomMetrics is what the metric types served by the custom and
// external metrics APIs get: minik8s serves neither.
var errNoCustomMetrics = errors.New("the server could not find the requested resource (custom and external metrics APIs are not served)")

// resourceMetric fetches one resource's usage per pod (of one container, if
// named). A pod missing a container's sample is left out.
func resourceMetric(ctx context.Context, src MetricsSource, resource corev1.ResourceName, namespace string, selector labels.Selector, container string) (podMetrics, time.Time, error) {
	items, err := src.PodMetrics(ctx, namespace, selector)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("unable to fetch metrics from resource metrics API: %v", err)
	}
	if len(items) == 0 {
		return nil, time.Time{}, errors.New("no metrics returned from resource metrics API")
	}
	out := make(podMetrics, len(items))
	for _, m := range items {
		var sum int64
		found := false
		missing := len(m.Containers) == 0
		for _, c := range m.Containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Usage[resource]
			if !ok {
				missing = true
				break
			}
			sum += q.MilliValue()
			found = true
		}
		if missing || container != "" && !found {
			continue
		}
		out[m.Name] = podMetric{value: sum, timestamp: m.Timestamp.Time, window: m.Window.Duration}
	}
	return out, items[0].Timestamp.Time, nil
}
