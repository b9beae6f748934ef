package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// Three nodes, one per zone. Replicas with required anti-affinity on hostname
// take one node each and the fourth stays Pending with upstream's message;
// replicas with a DoNotSchedule zone spread land one per zone. The scheduler is
// the only actor: there is no agent, so pods are only bound.
func TestSchedulerAntiAffinityAndZoneSpread(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	// Nodes are cluster-wide: names (and the label pods select them by) carry
	// this test's namespace, which is unique to this run.
	nodes := createZonedNodes(t, ctx, cs, s.Namespace, []string{"a", "b", "c"})
	selector := map[string]string{"e2e.minik8s.io/nodes": s.Namespace}

	// Required anti-affinity on hostname: at most one replica per node.
	for i := 0; i < 4; i++ {
		createPod(t, ctx, cs, s.Namespace, fmt.Sprintf("lonely-%d", i), map[string]string{"app": "lonely"}, selector, func(spec *corev1.PodSpec) {
			spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					TopologyKey:   corev1.LabelHostname,
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "lonely"}},
				}},
			}}
		})
	}
	placed := waitBound(t, ctx, cs, s.Namespace, "app=lonely", 3)
	if len(distinct(placed)) != 3 {
		t.Fatalf("anti-affine replicas share a node: %v", placed)
	}
	var pending string
	for i := 0; i < 4; i++ {
		if _, ok := placed[fmt.Sprintf("lonely-%d", i)]; !ok {
			pending = fmt.Sprintf("lonely-%d", i)
		}
	}
	total := countNodes(t, ctx, cs)
	// Upstream's message; with DefaultPreemption in the profile it goes on with
	// what preemption found (nothing: the replicas have the same priority).
	want := "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
	wantWithPreemption := want + " preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
	check := func(msg string) error {
		if total == 3 && msg != want && msg != wantWithPreemption {
			return fmt.Errorf("message %q, want %q", msg, want)
		}
		// Nodes of other tests add reasons of their own.
		if total != 3 && !strings.Contains(msg, "3 node(s) didn't match pod anti-affinity rules") {
			return fmt.Errorf("message %q lacks the anti-affinity reason", msg)
		}
		return nil
	}
	framework.Eventually(t, 30*time.Second, func() error {
		p, err := cs.CoreV1().Pods(s.Namespace).Get(ctx, pending, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Spec.NodeName != "" {
			t.Fatalf("%s was bound to %s", pending, p.Spec.NodeName)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled {
				if c.Status != corev1.ConditionFalse || c.Reason != "Unschedulable" {
					return fmt.Errorf("PodScheduled %s/%s", c.Status, c.Reason)
				}
				return check(c.Message)
			}
		}
		return fmt.Errorf("no PodScheduled condition yet")
	})
	framework.Eventually(t, 30*time.Second, func() error {
		evs, err := cs.CoreV1().Events(s.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pending})
		if err != nil {
			return err
		}
		// An attempt made while a node was still tainted not-ready leaves an
		// event of its own: the newest one tells the pod's state.
		var latest *corev1.Event
		for i, e := range evs.Items {
			if e.Reason == "FailedScheduling" && e.Type == corev1.EventTypeWarning &&
				(latest == nil || eventTime(&e).After(eventTime(latest))) {
				latest = &evs.Items[i]
			}
		}
		if latest == nil {
			return fmt.Errorf("no FailedScheduling event for %s", pending)
		}
		return check(latest.Message)
	})
	out := s.Run("describe", "pod", pending)
	framework.Contains(t, out, "FailedScheduling", "node(s) didn't match pod anti-affinity rules")

	// A DoNotSchedule spread over zones with maxSkew 1: three replicas, one per zone.
	for i := 0; i < 3; i++ {
		createPod(t, ctx, cs, s.Namespace, fmt.Sprintf("spread-%d", i), map[string]string{"app": "spread"}, selector, func(spec *corev1.PodSpec) {
			spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "spread"}},
			}}
		})
	}
	spread := waitBound(t, ctx, cs, s.Namespace, "app=spread", 3)
	zones := map[string]bool{}
	for _, node := range spread {
		zones[nodes[node]] = true
	}
	if len(zones) != 3 {
		t.Fatalf("spread replicas are not one per zone: %v", spread)
	}
}

// createZonedNodes registers Ready nodes <prefix>-<zone>, one per zone, and
// deletes them when the test ends. It returns node name -> zone.
func createZonedNodes(t *testing.T, ctx context.Context, cs kubernetes.Interface, prefix string, zones []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, z := range zones {
		name := prefix + "-" + z
		zone := "e2e-zone-" + z
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname:     name,
			corev1.LabelTopologyZone: zone,
			"e2e.minik8s.io/nodes":   prefix,
			corev1.LabelOSStable:     "linux",
			corev1.LabelArchStable:   "amd64",
		}}}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create node %s: %v", name, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := cs.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Errorf("delete node %s: %v", name, err)
			}
		})
		res := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("4"),
			corev1.ResourceMemory: resource.MustParse("8Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		}
		status := corev1.NodeStatus{Capacity: res, Allocatable: res, Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "e2e node",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(),
		}}}
		patch, err := json.Marshal(map[string]interface{}{"status": status})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
			t.Fatalf("patch status of node %s: %v", name, err)
		}
		out[name] = zone
	}
	return out
}

func createPod(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, labels, nodeSelector map[string]string, mutate func(*corev1.PodSpec)) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.PodSpec{
		NodeSelector: nodeSelector,
		Containers:   []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
	}}
	mutate(&pod.Spec)
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
}

// waitBound waits until want pods with the label selector are bound and returns
// pod name -> node.
func waitBound(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, labelSelector string, want int) map[string]string {
	t.Helper()
	var out map[string]string
	framework.Eventually(t, 30*time.Second, func() error {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labelSelector})
		if err != nil {
			return err
		}
		out = map[string]string{}
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				out[p.Name] = p.Spec.NodeName
			}
		}
		if len(out) != want {
			return fmt.Errorf("%d of %s bound, want %d: %v", len(out), labelSelector, want, out)
		}
		return nil
	})
	// No more than want: give the scheduler a moment to (wrongly) bind another.
	time.Sleep(500 * time.Millisecond)
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labelSelector})
	if err != nil {
		t.Fatal(err)
	}
	bound := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			bound++
		}
	}
	if bound != want {
		t.Fatalf("%d of %s bound, want %d", bound, labelSelector, want)
	}
	return out
}

func distinct(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, v := range m {
		out[v] = true
	}
	return out
}

func countNodes(t *testing.T, ctx context.Context, cs kubernetes.Interface) int {
	t.Helper()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(nodes.Items)
}

// eventTime is when an event last happened, whichever API wrote it.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	default:
		return e.EventTime.Time
	}
}
