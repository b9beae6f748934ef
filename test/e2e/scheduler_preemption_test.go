package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A pod of high priority that fits nowhere preempts the low-priority pod holding
// the cpu of the node it selects: the victim is deleted with a Preempted event,
// the preemptor is nominated to the node and then bound there. A pod whose
// class never preempts, and one with nothing of lower priority to preempt, say
// why in upstream's words. No kubelet runs here, so the victim has no grace
// period: its deletion is immediate, as a kubelet would end it.
func TestSchedulerPreemption(t *testing.T) {
	k := framework.KubectlPath(t, "")
	s := framework.NewSession(t, cluster, k)
	cs := cluster.Client(t)
	ctx := ctxT(t)
	suffix := s.Namespace[strings.LastIndex(s.Namespace, "-")+1:]
	nodeName := "e2e-preemption-" + suffix
	createReadyNode(t, cs, nodeName, "2")
	low, high, never := "e2e-low-"+suffix, "e2e-high-"+suffix, "e2e-never-"+suffix
	createPriorityClass(t, cs, low, 100, corev1.PreemptLowerPriority)
	createPriorityClass(t, cs, high, 1000, corev1.PreemptLowerPriority)
	createPriorityClass(t, cs, never, 1000, corev1.PreemptNever)

	s.Apply(preemptionPod("low", low, nodeName))
	lowPod := waitPodBound(t, cs, s.Namespace, "low", nodeName)

	s.Apply(preemptionPod("high", high, nodeName))
	framework.Eventually(t, 30*time.Second, func() error {
		_, err := cs.CoreV1().Pods(s.Namespace).Get(ctx, "low", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("low pod still there: %v", err)
	})
	highPod := waitPodBound(t, cs, s.Namespace, "high", nodeName)
	if highPod.Status.NominatedNodeName != nodeName {
		t.Errorf("high pod's nominatedNodeName is %q, want %q", highPod.Status.NominatedNodeName, nodeName)
	}
	framework.Matches(t, s.Run("get", "pod", "high", "-o", "wide"), `(?m)^high\s+\S+\s+Pending\s+.*`+nodeName+`\s+`+nodeName+`\s+`)

	preempted := eventsFor(t, cs, s.Namespace, "low", lowPod.UID)
	wantNote := fmt.Sprintf("Preempted by pod %s on node %s", highPod.UID, nodeName)
	if !hasEvent(preempted, corev1.EventTypeNormal, "Preempted", wantNote) {
		t.Errorf("no Normal Preempted event %q for the low pod; events: %v", wantNote, describeEvents(preempted))
	}
	highEvents := eventsFor(t, cs, s.Namespace, "high", highPod.UID)
	if !hasEventMatching(highEvents, corev1.EventTypeWarning, "FailedScheduling", `^0/\d+ nodes are available: (.*, )?1 Insufficient cpu(, .*)?\.$`) {
		t.Errorf("no FailedScheduling event for the high pod naming the cpu it lacked; events: %v", describeEvents(highEvents))
	}
	if !hasEvent(highEvents, corev1.EventTypeNormal, "Scheduled", fmt.Sprintf("Successfully assigned %s/high to %s", s.Namespace, nodeName)) {
		t.Errorf("no Scheduled event for the high pod; events: %v", describeEvents(highEvents))
	}

	// preemptionPolicy Never: the pod waits, and says why.
	s.Apply(preemptionPod("polite", never, nodeName))
	politePod := waitUnschedulable(t, cs, s.Namespace, "polite",
		`^0/\d+ nodes are available: (.*, )?1 Insufficient cpu(, .*)?\. preemption: not eligible due to preemptionPolicy=Never\.$`)
	if politePod.Status.NominatedNodeName != "" {
		t.Errorf("pod that never preempts was nominated to %q", politePod.Status.NominatedNodeName)
	}
	// Nothing of lower priority on the node: the high pod stays.
	s.Apply(preemptionPod("equal", high, nodeName))
	waitUnschedulable(t, cs, s.Namespace, "equal",
		`preemption: 0/(\d+) nodes are available: 1 No preemption victims found for incoming pod(, \d+ Preemption is not helpful for scheduling)?\.$`)
	if _, err := cs.CoreV1().Pods(s.Namespace).Get(ctx, "high", metav1.GetOptions{}); err != nil {
		t.Errorf("high pod gone after a pod of equal priority came: %v", err)
	}
	framework.Contains(t, s.Run("describe", "pod", "polite"), "preemption: not eligible due to preemptionPolicy=Never.")
	t.Logf("events:\n%s", s.Run("get", "events", "--sort-by=.lastTimestamp", "-o", "custom-columns=OBJECT:.involvedObject.name,TYPE:.type,REASON:.reason,MESSAGE:.message"))
}

func preemptionPod(name, class, node string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  priorityClassName: %s
  nodeSelector:
    e2e-preemption: %s
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    resources:
      requests:
        cpu: "2"
`, name, class, node)
}

// createReadyNode registers a Ready node no agent runs, labelled so that only
// this test's pods select it, and removes it afterwards.
func createReadyNode(t *testing.T, cs kubernetes.Interface, name, cpu string) {
	t.Helper()
	ctx := ctxT(t)
	n, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{"e2e-preemption": name, "kubernetes.io/hostname": name}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cs.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete node %s: %v", name, err)
		}
	})
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	now := metav1.Now()
	status := corev1.NodeStatus{Capacity: rl, Allocatable: rl, Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady,
		Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status",
		LastHeartbeatTime: now, LastTransitionTime: now}}}
	patch, err := json.Marshal(map[string]interface{}{"status": status})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("make node ready: %v", err)
	}
}

func createPriorityClass(t *testing.T, cs kubernetes.Interface, name string, value int32, policy corev1.PreemptionPolicy) {
	t.Helper()
	ctx := ctxT(t)
	if _, err := cs.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name},
		Value: value, PreemptionPolicy: &policy}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PriorityClass %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cs.SchedulingV1().PriorityClasses().Delete(ctx, name, metav1.DeleteOptions{})
	})
}

func waitPodBound(t *testing.T, cs kubernetes.Interface, ns, name, node string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	framework.Eventually(t, 30*time.Second, func() error {
		p, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Spec.NodeName != node {
			return fmt.Errorf("pod %s on %q, want %q; status %+v", name, p.Spec.NodeName, node, p.Status.Conditions)
		}
		pod = p
		return nil
	})
	return pod
}

// waitUnschedulable waits for the pod's PodScheduled condition to say
// Unschedulable with a message matching re, and for the FailedScheduling event
// to say the same.
func waitUnschedulable(t *testing.T, cs kubernetes.Interface, ns, name, re string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	framework.Eventually(t, 30*time.Second, func() error {
		p, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable && regexp.MustCompile(re).MatchString(c.Message) {
				pod = p
				return nil
			}
		}
		return fmt.Errorf("pod %s: conditions %+v do not match %q", name, p.Status.Conditions, re)
	})
	framework.Eventually(t, 30*time.Second, func() error {
		if evs := eventsFor(t, cs, ns, name, pod.UID); !hasEventMatching(evs, corev1.EventTypeWarning, "FailedScheduling", re) {
			return fmt.Errorf("no FailedScheduling event matching %q: %v", re, describeEvents(evs))
		}
		return nil
	})
	return pod
}

func eventsFor(t *testing.T, cs kubernetes.Interface, ns, name string, uid types.UID) []corev1.Event {
	t.Helper()
	var out []corev1.Event
	framework.Eventually(t, 30*time.Second, func() error {
		list, err := cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String()})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, ev := range list.Items {
			if ev.InvolvedObject.UID == uid {
				out = append(out, ev)
			}
		}
		if len(out) == 0 {
			return fmt.Errorf("no events for pod %s yet", name)
		}
		return nil
	})
	return out
}

func hasEvent(evs []corev1.Event, typ, reason, note string) bool {
	for _, ev := range evs {
		if ev.Type == typ && ev.Reason == reason && ev.Message == note {
			return true
		}
	}
	return false
}

func hasEventMatching(evs []corev1.Event, typ, reason, re string) bool {
	for _, ev := range evs {
		if ev.Type == typ && ev.Reason == reason && regexp.MustCompile(re).MatchString(ev.Message) {
			return true
		}
	}
	return false
}

func describeEvents(evs []corev1.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, fmt.Sprintf("%s %s %q", ev.Type, ev.Reason, ev.Message))
	}
	return out
}
