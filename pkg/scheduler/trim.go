package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// trimObject drops, from objects the scheduler caches, the fields no plugin and
// no part of the scheduler reads: most of a pod's bulk is its containers'
// commands, environments, probes and statuses. It runs on every object an
// informer receives, before it is stored.
func trimObject(obj interface{}) (interface{}, error) {
	if acc, ok := obj.(metav1.ObjectMetaAccessor); ok {
		m := acc.GetObjectMeta()
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a[corev1.LastAppliedConfigAnnotation] != "" {
			delete(a, corev1.LastAppliedConfigAnnotation)
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		trimPod(o)
	case *corev1.Node:
		trimNode(o)
	}
	return obj, nil
}

// trimPod keeps what scheduling reads: names, labels, owners, the spec's
// scheduling fields, each container's image, ports and resources, volumes, and
// of the status the phase, nominated node, start time, the PodScheduled and
// DisruptionTarget conditions and the containers' resources (in-place resize).
func trimPod(p *corev1.Pod) {
	for i := range p.Spec.Containers {
		trimContainer(&p.Spec.Containers[i])
	}
	for i := range p.Spec.InitContainers {
		trimContainer(&p.Spec.InitContainers[i])
	}
	p.Spec.EphemeralContainers = nil
	conds := p.Status.Conditions[:0]
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled || c.Type == corev1.DisruptionTarget {
			conds = append(conds, c)
		}
	}
	p.Status.Conditions = conds
	p.Status.ContainerStatuses = trimStatuses(p.Status.ContainerStatuses)
	p.Status.InitContainerStatuses = trimStatuses(p.Status.InitContainerStatuses)
	p.Status.EphemeralContainerStatuses = nil
	p.Status.Message = ""
}

func trimContainer(c *corev1.Container) {
	c.Command, c.Args, c.WorkingDir = nil, nil, ""
	c.Env, c.EnvFrom = nil, nil
	c.VolumeMounts, c.VolumeDevices = nil, nil
	c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle = nil, nil, nil, nil
	c.TerminationMessagePath, c.SecurityContext = "", nil
}

func trimStatuses(sts []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(sts) == 0 {
		return sts
	}
	out := sts[:0]
	for _, s := range sts {
		out = append(out, corev1.ContainerStatus{Name: s.Name, Resources: s.Resources, AllocatedResources: s.AllocatedResources})
	}
	return out
}

// trimNode keeps a node's labels, spec, allocatable, images and condition
// statuses; the rest (capacity, addresses, system info, heartbeat times) never
// matters to placement.
func trimNode(n *corev1.Node) {
	n.Status.Capacity = nil
	n.Status.DaemonEndpoints = corev1.NodeDaemonEndpoints{}
	n.Status.Config = nil
	n.Status.NodeInfo = corev1.NodeSystemInfo{}
	n.Status.Addresses = nil
	n.Status.VolumesInUse, n.Status.VolumesAttached = nil, nil
	for i := range n.Status.Conditions {
		c := &n.Status.Conditions[i]
		*c = corev1.NodeCondition{Type: c.Type, Status: c.Status}
	}
}
