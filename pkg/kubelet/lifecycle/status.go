package lifecycle

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Waiting is why a container has not started, as the agent learned it (image pulls,
// configuration errors).
type Waiting struct {
	Reason, Message string
}

// StatusInputs are what a pod's status depends on besides the pod and its runtime view.
type StatusInputs struct {
	Now    time.Time
	HostIP string
	// Backoff holds back-off delays for CrashLoopBackOff messages.
	Backoff *Backoff
	// Errors are per-container reasons a container could not be created or started.
	Errors map[string]Waiting
	// Ready and Started are probe results per container name; absent means the
	// container has no such probe.
	Ready   map[string]bool
	Started map[string]bool
	// RuntimeName prefixes container IDs ("containerd").
	RuntimeName string
	// Evicted is why the agent stopped the pod for good (its active deadline
	// passed): the pod is Failed with that reason and message, as upstream's
	// pod sync handlers make it.
	Evicted *Waiting
}

// ContainerIDPrefix makes a status container ID from a runtime ID.
func (in StatusInputs) containerID(id string) string {
	name := in.RuntimeName
	if name == "" {
		name = "containerd"
	}
	return name + "://" + id
}

// PodStatus computes a pod's status; fields the agent does not own (PodScheduled,
// QoS class, nominated node) come from the previous status.
func PodStatus(pod *corev1.Pod, rt *Pod, in StatusInputs) corev1.PodStatus {
	old := pod.Status
	st := corev1.PodStatus{
		QOSClass:          old.QOSClass,
		NominatedNodeName: old.NominatedNodeName,
		StartTime:         old.StartTime,
		Resize:            old.Resize,
	}
	if st.StartTime == nil {
		t := metav1.NewTime(in.Now.Truncate(time.Second))
		st.StartTime = &t
	}
	if in.HostIP != "" {
		st.HostIP = in.HostIP
		st.HostIPs = []corev1.HostIP{{IP: in.HostIP}}
	}
	sb := rt.Sandbox()
	if sb != nil && sb.Ready && len(sb.IPs) > 0 {
		st.PodIP = sb.IPs[0]
		for _, ip := range sb.IPs {
			st.PodIPs = append(st.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	if pod.Spec.HostNetwork && in.HostIP != "" {
		st.PodIP = in.HostIP
		st.PodIPs = []corev1.PodIP{{IP: in.HostIP}}
	}

	initDone := true
	var incomplete []string
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := containerStatus(pod, c, rt, in, "PodInitializing")
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		if isSidecar(c) {
			if cs.State.Running == nil {
				initDone = false
				incomplete = append(incomplete, c.Name)
			}
			continue
		}
		// A run-to-completion init container is ready once it succeeded, and
		// only then, as upstream's prober manager reports it.
		done := cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		st.InitContainerStatuses[len(st.InitContainerStatuses)-1].Ready = done
		if !done {
			initDone = false
			incomplete = append(incomplete, c.Name)
		}
	}
	appWaiting := "ContainerCreating"
	if !initDone {
		appWaiting = "PodInitializing"
	}
	var unready []string
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := containerStatus(pod, c, rt, in, appWaiting)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !cs.Ready {
			unready = append(unready, c.Name)
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		st.EphemeralContainerStatuses = append(st.EphemeralContainerStatuses,
			ephemeralStatus(pod, &pod.Spec.EphemeralContainers[i], rt, in))
	}
	st.Phase = Phase(pod, st.InitContainerStatuses, st.ContainerStatuses)
	if in.Evicted != nil {
		st.Phase, st.Reason, st.Message = corev1.PodFailed, in.Evicted.Reason, in.Evicted.Message
	}

	conds := []corev1.PodCondition{}
	readyToStart := corev1.ConditionFalse
	if sb != nil && sb.Ready {
		readyToStart = corev1.ConditionTrue
	}
	if st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed {
		readyToStart = corev1.ConditionFalse
	}
	conds = append(conds, corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: readyToStart})
	if initDone || st.Phase == corev1.PodSucceeded {
		conds = append(conds, corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue})
	} else {
		conds = append(conds, corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionFalse,
			Reason: "ContainersNotInitialized", Message: fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " "))})
	}
	ready := corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}
	switch {
	case st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed:
		ready = corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "PodCompleted"}
	case len(unready) > 0:
		ready = corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady",
			Message: fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))}
	}
	podReady := ready
	podReady.Type = corev1.PodReady
	if podReady.Status == corev1.ConditionTrue {
		if missing := unmetReadinessGates(pod); len(missing) > 0 {
			podReady = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ReadinessGatesNotReady",
				Message: fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", missing[0])}
		}
	}
	conds = append(conds, ready, podReady)
	for _, c := range old.Conditions {
		if !isAgentCondition(c.Type) {
			conds = append(conds, c)
		}
	}
	st.Conditions = keepTransitionTimes(conds, old.Conditions, in.Now)
	return st
}

// isAgentCondition lists the conditions the agent owns.
func isAgentCondition(t corev1.PodConditionType) bool {
	switch t {
	case corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady:
		return true
	}
	return false
}

func unmetReadinessGates(pod *corev1.Pod) []string {
	var missing []string
	for _, g := range pod.Spec.ReadinessGates {
		ok := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			missing = append(missing, string(g.ConditionType))
		}
	}
	return missing
}

// keepTransitionTimes keeps a condition's lastTransitionTime while its status holds.
func keepTransitionTimes(conds, old []corev1.PodCondition, now time.Time) []corev1.PodCondition {
	for i := range conds {
		conds[i].LastTransitionTime = metav1.NewTime(now.Truncate(time.Second))
		for _, o := range old {
			if o.Type == conds[i].Type && o.Status == conds[i].Status {
				conds[i].LastTransitionTime = o.LastTransitionTime
				if conds[i].LastProbeTime.IsZero() {
					conds[i].LastProbeTime = o.LastProbeTime
				}
			}
		}
	}
	return conds
}

// containerStatus reports one container from its newest and previous instances.
func containerStatus(pod *corev1.Pod, c *corev1.Container, rt *Pod, in StatusInputs, waitingReason string) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image}
	inst := rt.Latest(c.Name)
	if inst == nil {
		w := &corev1.ContainerStateWaiting{Reason: waitingReason}
		if e, ok := in.Errors[c.Name]; ok {
			w = &corev1.ContainerStateWaiting{Reason: e.Reason, Message: e.Message}
		}
		cs.State.Waiting = w
		return cs
	}
	if inst.Image != "" {
		cs.Image = inst.Image
	}
	cs.ImageID = inst.ImageRef
	cs.ContainerID = in.containerID(inst.ID)
	cs.RestartCount = int32(inst.Attempt)
	if prev := rt.Previous(c.Name); prev != nil && prev.Phase == ContainerExited {
		cs.LastTerminationState.Terminated = terminated(prev, in)
	}
	started := false
	switch inst.Phase {
	case ContainerRunning:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(inst.StartedAt)}
		started = true
		if s, has := in.Started[c.Name]; has {
			started = s
		}
		cs.Started = &started
		ready := started
		if r, has := in.Ready[c.Name]; has {
			ready = ready && r
		}
		cs.Ready = ready
	case ContainerExited:
		term := terminated(inst, in)
		cs.Started = &started
		if e, ok := in.Errors[c.Name]; ok {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: e.Reason, Message: e.Message}
			cs.LastTerminationState.Terminated = term
			break
		}
		if in.Backoff != nil && (shouldRestart(pod.Spec.RestartPolicy, inst) || isSidecar(c)) {
			key := BackoffKey(pod, c.Name)
			if wait, _ := in.Backoff.InBackoff(key, inst.FinishedAt, in.Now); wait {
				cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
					Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
						in.Backoff.Delay(key), c.Name, pod.Name, pod.Namespace, pod.UID)}
				cs.LastTerminationState.Terminated = term
				break
			}
		}
		cs.State.Terminated = term
	default:
		w := &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		if e, ok := in.Errors[c.Name]; ok {
			w = &corev1.ContainerStateWaiting{Reason: e.Reason, Message: e.Message}
		}
		cs.State.Waiting = w
		cs.Started = &started
	}
	return cs
}

// ephemeralStatus reports an ephemeral container: never ready, no started flag
// (it has no probes) and no back-off, since it is never restarted.
func ephemeralStatus(pod *corev1.Pod, ec *corev1.EphemeralContainer, rt *Pod, in StatusInputs) corev1.ContainerStatus {
	noBackoff := in
	noBackoff.Backoff = nil
	// Upstream waits a not-yet-started one as PodInitializing in any pod with
	// init containers, whatever their state.
	waiting := "ContainerCreating"
	if len(pod.Spec.InitContainers) > 0 {
		waiting = "PodInitializing"
	}
	cs := containerStatus(pod, EphemeralAsContainer(ec), rt, noBackoff, waiting)
	cs.Ready = false
	cs.Started = nil
	return cs
}

func terminated(inst *Container, in StatusInputs) *corev1.ContainerStateTerminated {
	reason := inst.Reason
	if reason == "" {
		reason = "Completed"
		if inst.ExitCode != 0 {
			reason = "Error"
		}
	}
	return &corev1.ContainerStateTerminated{
		ExitCode:    inst.ExitCode,
		Reason:      reason,
		Message:     inst.Message,
		StartedAt:   metav1.NewTime(inst.StartedAt),
		FinishedAt:  metav1.NewTime(inst.FinishedAt),
		ContainerID: in.containerID(inst.ID),
	}
}

// Phase computes the pod phase from its container statuses, by upstream's rules.
func Phase(pod *corev1.Pod, initStatuses, statuses []corev1.ContainerStatus) corev1.PodPhase {
	policy := pod.Spec.RestartPolicy
	pendingInit, failedInit := 0, 0
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs, ok := find(initStatuses, c.Name)
		if isSidecar(c) {
			if !ok || cs.State.Running == nil {
				pendingInit++
			}
			continue
		}
		switch {
		case !ok:
			pendingInit++
		case cs.State.Running != nil:
			pendingInit++
		case cs.State.Terminated != nil:
			if cs.State.Terminated.ExitCode != 0 {
				failedInit++
			}
		case cs.State.Waiting != nil:
			if t := cs.LastTerminationState.Terminated; t != nil {
				if t.ExitCode != 0 {
					failedInit++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}
	unknown, running, waiting, stopped, succeeded := 0, 0, 0, 0, 0
	for i := range pod.Spec.Containers {
		cs, ok := find(statuses, pod.Spec.Containers[i].Name)
		switch {
		case !ok:
			unknown++
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}
	if failedInit > 0 && policy == corev1.RestartPolicyNever {
		return corev1.PodFailed
	}
	switch {
	case pendingInit > 0 || failedInit > 0:
		return corev1.PodPending
	case waiting > 0:
		return corev1.PodPending
	case running > 0 && unknown == 0:
		return corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		if policy == corev1.RestartPolicyAlways {
			return corev1.PodRunning
		}
		if stopped == succeeded {
			return corev1.PodSucceeded
		}
		if policy == corev1.RestartPolicyNever {
			return corev1.PodFailed
		}
		return corev1.PodRunning
	}
	return corev1.PodPending
}

func find(list []corev1.ContainerStatus, name string) (corev1.ContainerStatus, bool) {
	for _, cs := range list {
		if cs.Name == name {
			return cs, true
		}
	}
	return corev1.ContainerStatus{}, false
}
