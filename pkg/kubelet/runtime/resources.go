package runtime

import (
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CPU shares and quota as upstream derives them from requests and limits.
const (
	minShares    = 2
	sharesPerCPU = 1024
	quotaPeriod  = 100000 // microseconds
	minQuota     = 1000
)

// LinuxResources maps a container's requests and limits to cgroup settings.
func LinuxResources(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerResources {
	r := &runtimeapi.LinuxContainerResources{CpuPeriod: quotaPeriod}
	cpuReq := c.Resources.Requests.Cpu()
	cpuLim := c.Resources.Limits.Cpu()
	switch {
	case !cpuReq.IsZero():
		r.CpuShares = milliToShares(cpuReq.MilliValue())
	case !cpuLim.IsZero():
		r.CpuShares = milliToShares(cpuLim.MilliValue())
	default:
		r.CpuShares = minShares
	}
	if !cpuLim.IsZero() {
		q := cpuLim.MilliValue() * quotaPeriod / 1000
		if q < minQuota {
			q = minQuota
		}
		r.CpuQuota = q
	}
	if mem := c.Resources.Limits.Memory(); !mem.IsZero() {
		r.MemoryLimitInBytes = mem.Value()
	}
	r.OomScoreAdj = oomScoreAdj(pod, c)
	return r
}

func milliToShares(milli int64) int64 {
	s := milli * sharesPerCPU / 1000
	if s < minShares {
		return minShares
	}
	return s
}

// oomScoreAdj follows upstream's QoS policy; containerd clamps it on hosts where
// it may not go below its own.
func oomScoreAdj(pod *corev1.Pod, c *corev1.Container) int64 {
	switch qosClass(pod) {
	case corev1.PodQOSGuaranteed:
		return -997
	case corev1.PodQOSBestEffort:
		return 1000
	}
	memReq := c.Resources.Requests.Memory().Value()
	capacity := nodeMemory()
	if capacity <= 0 {
		return 999
	}
	adj := 1000 - (1000*memReq)/capacity
	if adj < 3 {
		adj = 3
	}
	if adj > 999 {
		adj = 999
	}
	return adj
}
