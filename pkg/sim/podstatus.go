package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/images"
)

// podAction is what a simulated kubelet does next with a pod.
type podAction int

const (
	// podNothing: the pod is as it should be (perhaps until requeueAfter).
	podNothing podAction = iota
	// podRun: write a Running status with every container ready.
	podRun
	// podComplete: write a Succeeded or Failed status, as the pod asked.
	podComplete
	// podRemove: the pod is being deleted; finish it with grace period 0.
	podRemove
)

// podPlan is what to do with a pod and when to look again.
type podPlan struct {
	action       podAction
	requeueAfter time.Duration
}

// planPod decides from the pod alone. Pods never fail or restart here: they run
// until deleted, or complete when they ask to with AnnotationCompleteAfter.
func planPod(pod *corev1.Pod, now time.Time) podPlan {
	if pod.DeletionTimestamp != nil {
		if g := pod.DeletionGracePeriodSeconds; g != nil && *g == 0 {
			return podPlan{} // already asked; finalizers hold it
		}
		return podPlan{action: podRemove}
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return podPlan{}
	}
	if !runsAsWanted(pod) {
		return podPlan{action: podRun}
	}
	if after, ok := completesAfter(pod); ok && pod.Status.StartTime != nil {
		left := pod.Status.StartTime.Add(after).Sub(now)
		if left <= 0 {
			return podPlan{action: podComplete}
		}
		return podPlan{requeueAfter: left}
	}
	return podPlan{}
}

// completesAfter reads AnnotationCompleteAfter; pods that restart always never complete.
func completesAfter(pod *corev1.Pod) (time.Duration, bool) {
	v, ok := pod.Annotations[AnnotationCompleteAfter]
	if !ok || pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// runsAsWanted tells whether the status already says Running with every container
// ready and the readiness the pod's gates allow.
func runsAsWanted(pod *corev1.Pod) bool {
	st := &pod.Status
	if st.Phase != corev1.PodRunning || st.PodIP == "" || st.HostIP == "" || st.StartTime == nil ||
		len(st.ContainerStatuses) != len(pod.Spec.Containers) || len(st.InitContainerStatuses) != len(pod.Spec.InitContainers) {
		return false
	}
	for i, c := range pod.Spec.Containers {
		cs := st.ContainerStatuses[i]
		if cs.Name != c.Name || cs.Image != imageName(c.Image) || cs.State.Running == nil || !cs.Ready {
			return false
		}
	}
	ready, _, _ := gatesReady(pod)
	return conditionStatus(st.Conditions, corev1.PodReady) == boolStatus(ready)
}

// runningStatus is the status a kubelet reports once every container has started
// and passed its probes: init containers completed (sidecars running), containers
// running and ready, the pod Ready unless a readiness gate says otherwise. Fields
// others own (QoS class, nominated node, resize) are kept.
func runningStatus(pod *corev1.Pod, podIP, hostIP string, now time.Time) corev1.PodStatus {
	t := metav1.NewTime(now)
	st := *pod.Status.DeepCopy()
	st.Phase, st.Reason, st.Message = corev1.PodRunning, "", ""
	st.HostIP, st.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	st.PodIP, st.PodIPs = podIP, []corev1.PodIP{{IP: podIP}}
	if st.StartTime == nil {
		st.StartTime = &t
	}
	started := *st.StartTime
	st.InitContainerStatuses = make([]corev1.ContainerStatus, len(pod.Spec.InitContainers))
	for i, c := range pod.Spec.InitContainers {
		cs := containerStatus(pod, c, started)
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			cs.Ready, cs.Started = true, ptrBool(false)
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: started, ContainerID: cs.ContainerID}}
		}
		st.InitContainerStatuses[i] = cs
	}
	st.ContainerStatuses = make([]corev1.ContainerStatus, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		st.ContainerStatuses[i] = containerStatus(pod, c, started)
	}
	ready, reason, msg := gatesReady(pod)
	readyCond := corev1.PodCondition{Type: corev1.PodReady, Status: boolStatus(ready)}
	if !ready {
		readyCond.Reason, readyCond.Message = reason, msg
	}
	st.Conditions = podConditions(st.Conditions, t,
		corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue},
		corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		readyCond,
		corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
	)
	return st
}

// completedStatus is the status of a pod whose containers all exited with the
// code AnnotationExitCode asks for (0 when absent): Succeeded, or Failed.
func completedStatus(pod *corev1.Pod, now time.Time) corev1.PodStatus {
	t := metav1.NewTime(now)
	st := *pod.Status.DeepCopy()
	code := int32(0)
	if v, err := strconv.ParseInt(pod.Annotations[AnnotationExitCode], 10, 32); err == nil {
		code = int32(v)
	}
	reason := "Completed"
	st.Phase = corev1.PodSucceeded
	if code != 0 {
		st.Phase, reason = corev1.PodFailed, "Error"
	}
	terminate := func(list []corev1.ContainerStatus) {
		for i := range list {
			cs := &list[i]
			if cs.State.Running == nil {
				continue
			}
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: code, Reason: reason, StartedAt: cs.State.Running.StartedAt, FinishedAt: t, ContainerID: cs.ContainerID}}
			cs.Ready, cs.Started = false, ptrBool(false)
		}
	}
	terminate(st.InitContainerStatuses)
	terminate(st.ContainerStatuses)
	st.Conditions = podConditions(st.Conditions, t,
		corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionFalse},
		corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "PodCompleted"},
		corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "PodCompleted"},
	)
	return st
}

// podConditions puts the kubelet's conditions first, in its order, then
// PodScheduled (added if the pod was bound without a scheduler), then the others'.
// A condition whose status is unchanged keeps its transition time.
func podConditions(old []corev1.PodCondition, now metav1.Time, set ...corev1.PodCondition) []corev1.PodCondition {
	out := make([]corev1.PodCondition, 0, len(set)+len(old)+1)
	mine := map[corev1.PodConditionType]bool{}
	for _, c := range set {
		mine[c.Type] = true
		c.LastTransitionTime = now
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, c)
	}
	scheduled := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now}
	for _, o := range old {
		if o.Type == corev1.PodScheduled {
			scheduled = o
		}
	}
	out = append(out, scheduled)
	for _, o := range old {
		if !mine[o.Type] && o.Type != corev1.PodScheduled {
			out = append(out, o)
		}
	}
	return out
}

// containerStatus is a running, ready container of the pod.
func containerStatus(pod *corev1.Pod, c corev1.Container, started metav1.Time) corev1.ContainerStatus {
	image := imageName(c.Image)
	return corev1.ContainerStatus{
		Name:        c.Name,
		State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
		Ready:       true,
		Started:     ptrBool(true),
		Image:       image,
		ImageID:     imageID(image),
		ContainerID: "sim://" + digest(string(pod.UID)+"/"+c.Name),
	}
}

// gatesReady tells whether the pod's readiness gates allow Ready, with upstream's
// reason and message when they do not.
func gatesReady(pod *corev1.Pod) (bool, string, string) {
	for _, g := range pod.Spec.ReadinessGates {
		found := false
		for _, c := range pod.Status.Conditions {
			if c.Type != g.ConditionType {
				continue
			}
			found = true
			if c.Status != corev1.ConditionTrue {
				return false, "ReadinessGatesNotReady", fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %s", g.ConditionType, c.Status)
			}
		}
		if !found {
			return false, "ReadinessGatesNotReady", fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", g.ConditionType)
		}
	}
	return true, "", ""
}

// imageName is the image as a container runtime reports it: fully qualified.
func imageName(image string) string {
	if n, err := images.NormalizeName(image); err == nil {
		return n
	}
	return image
}

// imageID is the repository digest a runtime would report: the image pinned by a
// digest made from its name (a digest reference is its own).
func imageID(image string) string {
	if strings.Contains(image, "@") {
		return image
	}
	repo := image
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo = image[:i]
	}
	return repo + "@sha256:" + digest(image)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func conditionStatus(conds []corev1.PodCondition, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range conds {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func boolStatus(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func ptrBool(b bool) *bool { return &b }
