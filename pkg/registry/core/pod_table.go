package core

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/registry"
)

// podTable prints kubectl's pod columns; STATUS follows upstream's reasoning about
// init containers, waiting and terminated states, and deletion.
var podTable = &registry.Table{
	Cols: []metav1.TableColumnDefinition{
		registry.NameColumn,
		registry.Col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
		registry.Col("Status", "string", "The aggregate status of the containers in this pod.", 0),
		registry.Col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
		registry.AgeColumn,
		registry.Col("IP", "string", corev1.PodStatus{}.SwaggerDoc()["podIP"], 1),
		registry.Col("Node", "string", corev1.PodSpec{}.SwaggerDoc()["nodeName"], 1),
		registry.Col("Nominated Node", "string", corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"], 1),
		registry.Col("Readiness Gates", "string", corev1.PodSpec{}.SwaggerDoc()["readinessGates"], 1),
	},
	Cells: func(obj runtime.Object) []interface{} { return podRow(obj.(*corev1.Pod)) },
}

func podRow(pod *corev1.Pod) []interface{} {
	ready, total, reason, restarts := podStatusSummary(pod)
	ip, node, nominated := "<none>", "<none>", "<none>"
	if len(pod.Status.PodIPs) > 0 && pod.Status.PodIPs[0].IP != "" {
		ip = pod.Status.PodIPs[0].IP
	}
	if pod.Spec.NodeName != "" {
		node = pod.Spec.NodeName
	}
	if pod.Status.NominatedNodeName != "" {
		nominated = pod.Status.NominatedNodeName
	}
	gates := "<none>"
	if n := len(pod.Spec.ReadinessGates); n > 0 {
		trueCount := 0
		for _, g := range pod.Spec.ReadinessGates {
			for _, c := range pod.Status.Conditions {
				if c.Type == g.ConditionType {
					if c.Status == corev1.ConditionTrue {
						trueCount++
					}
					break
				}
			}
		}
		gates = fmt.Sprintf("%d/%d", trueCount, n)
	}
	return []interface{}{pod.Name, fmt.Sprintf("%d/%d", ready, total), reason, restarts, registry.Age(pod.CreationTimestamp),
		ip, node, nominated, gates}
}

func isSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// podStatusSummary computes READY, STATUS and RESTARTS as kubectl shows them.
func podStatusSummary(pod *corev1.Pod) (ready, total int, reason, restarts string) {
	total = len(pod.Spec.Containers)
	reason = string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}
	inits := map[string]*corev1.Container{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		inits[c.Name] = c
		if isSidecar(c) {
			total++
		}
	}
	count, sidecarCount := 0, 0
	var last, sidecarLast metav1.Time
	later := func(t *metav1.Time, s corev1.ContainerStatus) {
		if term := s.LastTerminationState.Terminated; term != nil && t.Before(&term.FinishedAt) {
			*t = term.FinishedAt
		}
	}
	initializing := false
	for i, s := range pod.Status.InitContainerStatuses {
		count += int(s.RestartCount)
		later(&last, s)
		sidecar := isSidecar(inits[s.Name])
		if sidecar {
			sidecarCount += int(s.RestartCount)
			later(&sidecarLast, s)
		}
		switch {
		case s.State.Terminated != nil && s.State.Terminated.ExitCode == 0:
			continue
		case sidecar && s.Started != nil && *s.Started:
			if s.Ready {
				ready++
			}
			continue
		case s.State.Terminated != nil:
			t := s.State.Terminated
			switch {
			case t.Reason != "":
				reason = "Init:" + t.Reason
			case t.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case s.State.Waiting != nil && s.State.Waiting.Reason != "" && s.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + s.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing || podConditionTrue(pod, corev1.PodInitialized) {
		count, last = sidecarCount, sidecarLast
		running := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			s := pod.Status.ContainerStatuses[i]
			count += int(s.RestartCount)
			later(&last, s)
			switch {
			case s.State.Waiting != nil && s.State.Waiting.Reason != "":
				reason = s.State.Waiting.Reason
			case s.State.Terminated != nil && s.State.Terminated.Reason != "":
				reason = s.State.Terminated.Reason
			case s.State.Terminated != nil && s.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", s.State.Terminated.Signal)
			case s.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", s.State.Terminated.ExitCode)
			case s.Ready && s.State.Running != nil:
				running = true
				ready++
			}
		}
		// A pod whose last container completed while another still runs is not done.
		if reason == "Completed" && running {
			if podConditionTrue(pod, corev1.PodReady) {
				reason = "Running"
			} else {
				reason = "NotReady"
			}
		}
	}
	terminal := pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
	if pod.DeletionTimestamp != nil && pod.Status.Reason == "NodeLost" {
		reason = "Unknown"
	} else if pod.DeletionTimestamp != nil && !terminal {
		reason = "Terminating"
	}
	restarts = strconv.Itoa(count)
	if count != 0 && !last.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", count, registry.Age(last))
	}
	return ready, total, reason, restarts
}

func podConditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
