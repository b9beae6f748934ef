package node

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The scheduler on a mix of the real node and simulated ones, driven as a user
// would with kubectl: node selectors, taints and tolerations, cordon and
// uncordon, host ports, zone spread, preemption and a second profile. Pods meant
// for simulated nodes select them by label, so nothing here lands on the real
// node by accident, and the simulated nodes are deleted at the end.
func TestSchedulerOnRealAndSimulatedNodes(t *testing.T) {
	s := session(t)
	sim := func(args ...string) {
		t.Helper()
		args = append(append([]string{"sim"}, args...), "--kubeconfig", cluster.Kubeconfig)
		if out, err := exec.Command(cluster.Binary, args...).CombinedOutput(); err != nil {
			t.Fatalf("minik8s %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Three 2-CPU nodes, one per zone, and two tainted GPU nodes. As upstream's,
	// each node reports the first filter that rejects it, in the profile's
	// order: a GPU node's taint comes before a pod's node selector.
	sim("nodes", "--count", "3", "--zones", "3", "--cpu", "2", "--prefix", "mixa-", "--labels", "e2e-mix=general")
	sim("nodes", "--count", "2", "--prefix", "mixg-", "--labels", "e2e-mix=gpu,accelerator=gpu", "--taints", "gpu=true:NoSchedule")
	t.Cleanup(func() {
		for _, p := range []string{"mixa-", "mixg-"} {
			exec.Command(cluster.Binary, "sim", "nodes", "--delete", "--prefix", p, "--kubeconfig", cluster.Kubeconfig).Run()
		}
	})
	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Run("get", "nodes", "--no-headers")
		if n := strings.Count(out, " Ready "); n != 6 {
			return fmt.Errorf("%d of 6 nodes Ready:\n%s", n, out)
		}
		return nil
	})
	total := 6

	t.Run("node selector places pods on the real node and on simulated ones", func(t *testing.T) {
		s.Apply(mixPod("on-real", "kubernetes.io/hostname: "+nodeName, ""))
		s.Apply(mixPod("on-sim", "e2e-mix: general", ""))
		framework.Contains(t, s.Run("wait", "--for=condition=Ready", "pod/on-real", "pod/on-sim", "--timeout=90s"), "condition met")
		framework.Contains(t, s.Run("get", "pod", "on-real", "-o", "jsonpath={.spec.nodeName}"), nodeName)
		framework.Matches(t, s.Run("get", "pod", "on-sim", "-o", "jsonpath={.spec.nodeName}"), `^mixa-\d$`)
		s.Run("delete", "pod", "on-real", "on-sim", "--wait=true")
	})

	t.Run("an untolerated taint keeps a pod off, a toleration lets it on", func(t *testing.T) {
		s.Apply(mixPod("no-toleration", "accelerator: gpu", ""))
		want := fitMessage(total, map[string]int{
			"node(s) had untolerated taint {gpu: true}":         2,
			"node(s) didn't match Pod's node affinity/selector": total - 2,
		}) + fmt.Sprintf(" preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.", total, total)
		waitUnschedulable(t, s, "no-toleration", want)
		s.Apply(mixPod("tolerating", "accelerator: gpu", `
  tolerations: [{key: gpu, operator: Equal, value: "true", effect: NoSchedule}]`))
		framework.Matches(t, waitBoundTo(t, s, "tolerating"), `^mixg-\d$`)
		s.Run("delete", "pod", "no-toleration", "tolerating", "--wait=true")
	})

	t.Run("a parked pod is placed within a second of uncordon", func(t *testing.T) {
		framework.Contains(t, s.Run("cordon", "mixa-0"), "node/mixa-0 cordoned")
		s.Apply(mixPod("pinned", "kubernetes.io/hostname: mixa-0", ""))
		waitUnschedulable(t, s, "pinned", fitMessage(total, map[string]int{
			"node(s) were unschedulable":                        1,
			"node(s) didn't match Pod's node affinity/selector": total - 3,
			"node(s) had untolerated taint {gpu: true}":         2,
		})+fmt.Sprintf(" preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.", total, total))
		// Past its first back-off, the pod waits only for a cluster event.
		time.Sleep(1500 * time.Millisecond)
		took := uncordonAndWaitBound(t, "mixa-0", s.Namespace, "pinned")
		t.Logf("bound %v after uncordon", took)
		if took > time.Second {
			t.Fatalf("pod bound %v after uncordon, want within 1s", took)
		}
		s.Run("delete", "pod", "pinned", "--wait=true")
	})

	t.Run("a host port is taken once per node", func(t *testing.T) {
		port := `
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"], ports: [{containerPort: 80, hostPort: 18080}]}`
		s.Apply(mixPodSpec("port-1", "kubernetes.io/hostname: mixa-1", port))
		framework.Contains(t, waitBoundTo(t, s, "port-1"), "mixa-1")
		s.Apply(mixPodSpec("port-2", "kubernetes.io/hostname: mixa-1", port))
		waitUnschedulable(t, s, "port-2", fitMessage(total, map[string]int{
			"node(s) didn't have free ports for the requested pod ports": 1,
			"node(s) didn't match Pod's node affinity/selector":          total - 3,
			"node(s) had untolerated taint {gpu: true}":                  2,
		})+fmt.Sprintf(" preemption: 0/%d nodes are available: 1 No preemption victims found for incoming pod, %d Preemption is not helpful for scheduling.", total, total-1))
		s.Run("delete", "pod", "port-1", "port-2", "--wait=true")
	})

	t.Run("replicas spread evenly over zones", func(t *testing.T) {
		s.Apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 6
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      nodeSelector: {e2e-mix: general}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: spread}}}
      containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"], resources: {requests: {cpu: 100m}}}]
`)
		framework.Contains(t, s.Run("rollout", "status", "deployment/spread", "--timeout=90s"), "successfully rolled out")
		perNode := map[string]int{}
		for _, n := range strings.Fields(s.Run("get", "pods", "-l", "app=spread", "-o", "jsonpath={.items[*].spec.nodeName}")) {
			perNode[n]++
		}
		if len(perNode) != 3 || perNode["mixa-0"] != 2 || perNode["mixa-1"] != 2 || perNode["mixa-2"] != 2 {
			t.Fatalf("replicas per node (one node per zone): %v, want 2 on each of mixa-0..2", perNode)
		}
		s.Run("delete", "deployment", "spread", "--wait=true")
		framework.Eventually(t, 60*time.Second, func() error {
			if out := s.Run("get", "pods", "-l", "app=spread", "--no-headers", "--ignore-not-found"); out != "" {
				return fmt.Errorf("pods left:\n%s", out)
			}
			return nil
		})
	})

	t.Run("a higher-priority pod preempts a lower one", func(t *testing.T) {
		s.Apply(fmt.Sprintf(`apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: %[1]s-low}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: %[1]s-high}
value: 1000
`, s.Namespace))
		t.Cleanup(func() { s.Do("delete", "priorityclass", s.Namespace+"-low", s.Namespace+"-high") })
		big := func(name, class string) string {
			return mixPodSpec(name, "kubernetes.io/hostname: mixa-2", fmt.Sprintf(`
  priorityClassName: %s
  containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"], resources: {requests: {cpu: 1500m}}}]`, class))
		}
		s.Apply(big("victim", s.Namespace+"-low"))
		framework.Contains(t, waitBoundTo(t, s, "victim"), "mixa-2")
		uid := s.Run("get", "pod", "victim", "-o", "jsonpath={.metadata.uid}")
		s.Apply(big("preemptor", s.Namespace+"-high"))
		framework.Contains(t, waitBoundTo(t, s, "preemptor"), "mixa-2")
		framework.Eventually(t, 30*time.Second, func() error {
			r := s.Do("get", "pod", "victim", "-o", "jsonpath={.metadata.uid}")
			if r.Code == 0 && strings.TrimSpace(r.Stdout) == uid {
				return fmt.Errorf("victim still there")
			}
			return nil
		})
		pre := s.Run("get", "pod", "preemptor", "-o", "jsonpath={.metadata.uid}")
		ev := s.Run("get", "events", "--field-selector", "reason=Preempted,involvedObject.uid="+uid, "-o", "jsonpath={.items[*].message}")
		framework.Contains(t, ev, "Preempted by pod "+pre+" on node mixa-2")
		s.Run("delete", "pod", "preemptor", "--wait=true")
	})

	t.Run("a second profile schedules its pods and an unknown one none", func(t *testing.T) {
		s.Apply(mixPodSpec("packed", "e2e-mix: general", `
  schedulerName: bin-packing
  containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"]}]`))
		framework.Matches(t, waitBoundTo(t, s, "packed"), `^mixa-\d$`)
		framework.Matches(t, s.Run("describe", "pod", "packed"), `Normal\s+Scheduled\s+.*bin-packing\s+Successfully assigned `+s.Namespace+`/packed to mixa-\d`)
		s.Apply(mixPodSpec("orphan", "e2e-mix: general", `
  schedulerName: no-such-scheduler
  containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"]}]`))
		time.Sleep(2 * time.Second)
		if n := s.Run("get", "pod", "orphan", "-o", "jsonpath={.spec.nodeName}{.status.conditions}"); n != "" {
			t.Fatalf("a pod for no scheduler was touched: %s", n)
		}
		out, err := exec.Command(cluster.Binary, "why", "pod/orphan", "-n", s.Namespace, "--kubeconfig", cluster.Kubeconfig).CombinedOutput()
		if err != nil {
			t.Fatalf("minik8s why: %v\n%s", err, out)
		}
		framework.Contains(t, string(out), `No scheduler serves schedulerName "no-such-scheduler"`)
		s.Run("delete", "pod", "packed", "orphan", "--wait=true")
	})

	t.Run("the scheduler's metrics count the attempts", func(t *testing.T) {
		m := s.Run("get", "--raw", "/metrics")
		framework.Matches(t, m, `(?m)^scheduler_schedule_attempts_total\{profile="default-scheduler",result="scheduled"\} \d+`)
		framework.Matches(t, m, `(?m)^scheduler_schedule_attempts_total\{profile="default-scheduler",result="unschedulable"\} \d+`)
		framework.Matches(t, m, `(?m)^scheduler_pending_pods\{queue="unschedulable"\} \d+`)
		framework.Contains(t, m, "scheduler_scheduling_attempt_duration_seconds_bucket")
	})
}

// mixPod renders a busybox pod with a node selector and extra spec lines.
func mixPod(name, selector, extra string) string {
	return mixPodSpec(name, selector, extra+`
  containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"]}]`)
}

func mixPodSpec(name, selector, spec string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  nodeSelector: {%s}%s
`, name, selector, spec)
}

// fitMessage is upstream's "0/N nodes are available: ..." with its reasons
// sorted as strings, counts included.
func fitMessage(total int, reasons map[string]int) string {
	var parts []string
	for r, n := range reasons {
		parts = append(parts, strconv.Itoa(n)+" "+r)
	}
	sort.Strings(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", total, strings.Join(parts, ", "))
}

// waitUnschedulable waits for the pod's PodScheduled=False condition and one of
// its FailedScheduling events to read want.
func waitUnschedulable(t *testing.T, s *framework.Session, pod, want string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, func() error {
		got := s.Run("get", "pod", pod, "-o", `jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}`)
		if got != want {
			return fmt.Errorf("condition of %s reads %q, want %q", pod, got, want)
		}
		ev := s.Run("get", "events", "--field-selector", "reason=FailedScheduling,involvedObject.name="+pod,
			"-o", `jsonpath={range .items[*]}{.message}{"\n"}{end}`)
		if !strings.Contains(ev+"\n", want+"\n") {
			return fmt.Errorf("no FailedScheduling event of %s reads %q:\n%s", pod, want, ev)
		}
		return nil
	})
}

// waitBoundTo waits for the pod to be bound and returns its node.
func waitBoundTo(t *testing.T, s *framework.Session, pod string) string {
	t.Helper()
	var node string
	framework.Eventually(t, 30*time.Second, func() error {
		node = s.Run("get", "pod", pod, "-o", "jsonpath={.spec.nodeName}")
		if node == "" {
			return fmt.Errorf("%s not bound", pod)
		}
		return nil
	})
	return node
}

// uncordonAndWaitBound does what `kubectl uncordon` does, and returns how long
// after it the pod was bound, as seen through a watch started before.
func uncordonAndWaitBound(t *testing.T, node, ns, pod string) time.Duration {
	t.Helper()
	cs := cluster.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + pod})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	if _, err := cs.CoreV1().Nodes().Patch(ctx, node, types.StrategicMergePatchType, []byte(`{"spec":{"unschedulable":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("uncordon %s: %v", node, err)
	}
	for ev := range w.ResultChan() {
		if p, ok := ev.Object.(*corev1.Pod); ok && p.Spec.NodeName == node {
			return time.Since(start)
		}
	}
	t.Fatalf("%s was not bound to %s within 30s of uncordon", pod, node)
	return 0
}
