package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// /metrics/resource is the summary's CPU, memory and swap figures in
// Prometheus form, with upstream's names, help texts (and their stability
// prefix), labels and sample timestamps: what metrics-server scrapes.

// scrapeTimeout bounds the runtime calls of one scrape.
const scrapeTimeout = 10 * time.Second

var (
	containerLabels = []string{"container", "pod", "namespace"}
	podLabels       = []string{"pod", "namespace"}

	nodeCPUDesc = prometheus.NewDesc("node_cpu_usage_seconds_total",
		"[STABLE] Cumulative cpu time consumed by the node in core-seconds", nil, nil)
	nodeMemoryDesc = prometheus.NewDesc("node_memory_working_set_bytes",
		"[STABLE] Current working set of the node in bytes", nil, nil)
	nodeSwapDesc = prometheus.NewDesc("node_swap_usage_bytes",
		"[ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems", nil, nil)
	containerCPUDesc = prometheus.NewDesc("container_cpu_usage_seconds_total",
		"[STABLE] Cumulative cpu time consumed by the container in core-seconds", containerLabels, nil)
	containerMemoryDesc = prometheus.NewDesc("container_memory_working_set_bytes",
		"[STABLE] Current working set of the container in bytes", containerLabels, nil)
	containerSwapDesc = prometheus.NewDesc("container_swap_usage_bytes",
		"[ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems", containerLabels, nil)
	containerSwapLimitDesc = prometheus.NewDesc("container_swap_limit_bytes",
		"[ALPHA] Current amount of the container swap limit in bytes. Reported only on non-windows systems", containerLabels, nil)
	containerStartDesc = prometheus.NewDesc("container_start_time_seconds",
		"[STABLE] Start time of the container since unix epoch in seconds", containerLabels, nil)
	podCPUDesc = prometheus.NewDesc("pod_cpu_usage_seconds_total",
		"[STABLE] Cumulative cpu time consumed by the pod in core-seconds", podLabels, nil)
	podMemoryDesc = prometheus.NewDesc("pod_memory_working_set_bytes",
		"[STABLE] Current working set of the pod in bytes", podLabels, nil)
	podSwapDesc = prometheus.NewDesc("pod_swap_usage_bytes",
		"[ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems", podLabels, nil)
	resourceScrapeErrorDesc = prometheus.NewDesc("resource_scrape_error",
		"[STABLE] 1 if there was an error while getting container metrics, 0 otherwise", nil, nil)
)

// resourceCollector reads a fresh summary at each scrape, so a series exists
// only for containers that run now.
type resourceCollector struct {
	summary func(context.Context) (*Summary, error)
}

func (c *resourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nodeCPUDesc, nodeMemoryDesc, nodeSwapDesc, containerStartDesc,
		containerCPUDesc, containerMemoryDesc, containerSwapDesc, containerSwapLimitDesc,
		podCPUDesc, podMemoryDesc, podSwapDesc, resourceScrapeErrorDesc} {
		ch <- d
	}
}

func (c *resourceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	sum, err := c.summary(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(resourceScrapeErrorDesc, prometheus.GaugeValue, 1)
		return
	}
	if cpu := sum.Node.CPU; cpu != nil && cpu.UsageCoreNanoSeconds != nil {
		ch <- stamped(cpu.Time.Time, nodeCPUDesc, prometheus.CounterValue, seconds(*cpu.UsageCoreNanoSeconds))
	}
	if mem := sum.Node.Memory; mem != nil && mem.WorkingSetBytes != nil {
		ch <- stamped(mem.Time.Time, nodeMemoryDesc, prometheus.GaugeValue, float64(*mem.WorkingSetBytes))
	}
	if swap := sum.Node.Swap; swap != nil && swap.SwapUsageBytes != nil {
		ch <- stamped(swap.Time.Time, nodeSwapDesc, prometheus.GaugeValue, float64(*swap.SwapUsageBytes))
	}
	for _, pod := range sum.Pods {
		name, ns := pod.PodRef.Name, pod.PodRef.Namespace
		for _, ctr := range pod.Containers {
			collectContainerUsage(ch, ctr, name, ns)
		}
		if cpu := pod.CPU; cpu != nil && cpu.UsageCoreNanoSeconds != nil {
			ch <- stamped(cpu.Time.Time, podCPUDesc, prometheus.CounterValue, seconds(*cpu.UsageCoreNanoSeconds), name, ns)
		}
		if mem := pod.Memory; mem != nil && mem.WorkingSetBytes != nil {
			ch <- stamped(mem.Time.Time, podMemoryDesc, prometheus.GaugeValue, float64(*mem.WorkingSetBytes), name, ns)
		}
		if swap := pod.Swap; swap != nil && swap.SwapUsageBytes != nil {
			ch <- stamped(swap.Time.Time, podSwapDesc, prometheus.GaugeValue, float64(*swap.SwapUsageBytes), name, ns)
		}
	}
	ch <- prometheus.MustNewConstMetric(resourceScrapeErrorDesc, prometheus.GaugeValue, 0)
}

// collectContainerUsage sends one container's series; the start time carries
// no timestamp, the usage figures that of their sample, as upstream.
func collectContainerUsage(ch chan<- prometheus.Metric, ctr ContainerStats, pod, ns string) {
	if ctr.StartTime.Unix() > 0 {
		ch <- prometheus.MustNewConstMetric(containerStartDesc, prometheus.GaugeValue,
			float64(ctr.StartTime.UnixNano())/float64(time.Second), ctr.Name, pod, ns)
	}
	if cpu := ctr.CPU; cpu != nil && cpu.UsageCoreNanoSeconds != nil {
		ch <- stamped(cpu.Time.Time, containerCPUDesc, prometheus.CounterValue, seconds(*cpu.UsageCoreNanoSeconds), ctr.Name, pod, ns)
	}
	if mem := ctr.Memory; mem != nil && mem.WorkingSetBytes != nil {
		ch <- stamped(mem.Time.Time, containerMemoryDesc, prometheus.GaugeValue, float64(*mem.WorkingSetBytes), ctr.Name, pod, ns)
	}
	if swap := ctr.Swap; swap != nil {
		var used uint64
		if swap.SwapUsageBytes != nil {
			used = *swap.SwapUsageBytes
			ch <- stamped(swap.Time.Time, containerSwapDesc, prometheus.GaugeValue, float64(used), ctr.Name, pod, ns)
		}
		// The limit is what is used plus what is left, as upstream derives it.
		if swap.SwapAvailableBytes != nil {
			ch <- stamped(swap.Time.Time, containerSwapLimitDesc, prometheus.GaugeValue,
				float64(*swap.SwapAvailableBytes+used), ctr.Name, pod, ns)
		}
	}
}

// stamped is a constant sample carrying the time it was measured at.
func stamped(at time.Time, desc *prometheus.Desc, kind prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	return prometheus.NewMetricWithTimestamp(at, prometheus.MustNewConstMetric(desc, kind, v, labels...))
}

// seconds turns nanoseconds into seconds.
func seconds(ns uint64) float64 { return float64(ns) / float64(time.Second) }
