package framework

import (
	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Defaults the scheduler assumes, for scoring only, of a container that requests no
// CPU or memory: otherwise many such pods would all look free and pile onto one node.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of every resource the scheduler accounts for.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// AllowedPodNumber is only meaningful for allocatable amounts.
	AllowedPodNumber int64
	// Scalar holds extended resources and hugepages.
	Scalar map[corev1.ResourceName]int64
}

// NewResource reads a resource list.
func NewResource(rl corev1.ResourceList) Resource {
	var r Resource
	r.Add(rl)
	return r
}

// Add adds a resource list.
func (r *Resource) Add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case corev1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		default:
			if IsScalarResourceName(name) {
				r.AddScalar(name, q.Value())
			}
		}
	}
}

// AddScalar adds an amount of an extended resource.
func (r *Resource) AddScalar(name corev1.ResourceName, v int64) {
	if r.Scalar == nil {
		r.Scalar = map[corev1.ResourceName]int64{}
	}
	r.Scalar[name] += v
}

// Plus adds another amount.
func (r *Resource) Plus(o *Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.AllowedPodNumber += o.AllowedPodNumber
	for k, v := range o.Scalar {
		r.AddScalar(k, v)
	}
}

// Minus subtracts another amount.
func (r *Resource) Minus(o *Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for k, v := range o.Scalar {
		r.AddScalar(k, -v)
	}
}

// Clone copies the amount.
func (r Resource) Clone() Resource {
	c := r
	if r.Scalar != nil {
		c.Scalar = make(map[corev1.ResourceName]int64, len(r.Scalar))
		for k, v := range r.Scalar {
			c.Scalar[k] = v
		}
	}
	return c
}

// Get returns the amount of one resource in the unit the scheduler compares
// (millicores for CPU, bytes or counts for the rest).
func (r *Resource) Get(name corev1.ResourceName) int64 {
	switch name {
	case corev1.ResourceCPU:
		return r.MilliCPU
	case corev1.ResourceMemory:
		return r.Memory
	case corev1.ResourceEphemeralStorage:
		return r.EphemeralStorage
	case corev1.ResourcePods:
		return r.AllowedPodNumber
	}
	return r.Scalar[name]
}

// IsScalarResourceName is true for extended resources, hugepages and
// attachable-volume counts: everything beyond cpu, memory, storage and pods.
func IsScalarResourceName(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage, corev1.ResourcePods:
		return false
	}
	return true
}

var nonZeroDefaults = corev1.ResourceList{}

func init() {
	nonZeroDefaults[corev1.ResourceCPU] = *resourceQuantity(DefaultMilliCPURequest, true)
	nonZeroDefaults[corev1.ResourceMemory] = *resourceQuantity(DefaultMemoryRequest, false)
}

// podRequests computes what a pod asks of a node: the larger of its init
// containers' and its app containers' needs, sidecars included, plus its overhead,
// or its pod-level requests where set (component-helpers does what the kubelet does).
// nonZero also has the defaults above for containers that request no CPU or memory.
func podRequests(pod *corev1.Pod) (reqs Resource, nonZeroCPU, nonZeroMem int64) {
	rl := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	reqs = NewResource(rl)
	nz := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{NonMissingContainerRequests: nonZeroDefaults})
	cpu, mem := nz[corev1.ResourceCPU], nz[corev1.ResourceMemory]
	return reqs, cpu.MilliValue(), mem.Value()
}
