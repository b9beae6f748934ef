package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// There is no agent in this cluster: the tests register Ready nodes of their
// own (labelled with the test's namespace, which the workloads select), the
// scheduler binds the pods to them, and the tests play the kubelet: they mark
// pods Running and Ready, and finish the deletions the controllers start.

const appsNodeLabel = "e2e.minik8s.io/nodes"

// createAppsNode registers a Ready node with the test's label (and taints),
// deleted when the test ends.
func createAppsNode(t *testing.T, ctx context.Context, cs kubernetes.Interface, name, group string, taints ...corev1.Taint) {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		corev1.LabelHostname: name, appsNodeLabel: group, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
	}}, Spec: corev1.NodeSpec{Taints: taints}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cs.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete node %s: %v", name, err)
		}
	})
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
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
}

// markReady plays the kubelet: the pod is Running and Ready.
func markReady(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	now := metav1.Now()
	status := map[string]interface{}{"status": map[string]interface{}{
		"phase": "Running", "podIP": "10.244.9.9", "startTime": now,
		"conditions": []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
	}}
	patch, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("mark %s ready: %v", name, err)
	}
}

// livePods lists the namespace's pods with the label selector: name -> pod.
func livePods(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, selector string) map[string]corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corev1.Pod{}
	for _, p := range list.Items {
		out[p.Name] = p
	}
	return out
}

func sortedNames(m map[string]corev1.Pod) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// waitBoundAndReady waits for the pod to exist and be bound, then marks it ready.
func waitBoundAndReady(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string) corev1.Pod {
	t.Helper()
	pod := waitAppPodBound(t, ctx, cs, ns, name)
	markReady(t, ctx, cs, ns, name)
	return pod
}

// waitAppPodBound waits for the pod to exist and be bound.
func waitAppPodBound(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string) corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	framework.Eventually(t, 30*time.Second, func() error {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Spec.NodeName == "" {
			return errf("%s not bound yet", name)
		}
		pod = p
		return nil
	})
	return *pod
}

// finishDeletion plays the kubelet for a pod the controller deleted: once it
// is terminating, it goes for good.
func finishDeletion(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, func() error {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.DeletionTimestamp == nil {
			return errf("%s is not being deleted", name)
		}
		zero := int64(0)
		return cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &p.UID}})
	})
}

// terminating lists the pods being deleted.
func terminating(pods map[string]corev1.Pod) []string {
	var out []string
	for n, p := range pods {
		if p.DeletionTimestamp != nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// stayAbsent fails if the pod appears within d.
func stayAbsent(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			t.Fatalf("%s was created too early", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const statefulSetManifest = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector: {%q: %q}
      containers:
      - name: nginx
        image: registry.k8s.io/pause:3.10
`

// A StatefulSet of three: web-0 first, web-1 only once web-0 is Ready, then
// web-2; scaling down takes web-2 first; a template change replaces the pods
// from the highest ordinal down; kubectl rollout status, history and undo.
func TestStatefulSetOrderedReadyScaleAndRollingUpdate(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := s.Namespace
	createAppsNode(t, ctx, cs, ns+"-n1", ns)
	createAppsNode(t, ctx, cs, ns+"-n2", ns)

	framework.Contains(t, s.Apply(fmt.Sprintf(statefulSetManifest, appsNodeLabel, ns)), "statefulset.apps/web created")
	web0 := waitAppPodBound(t, ctx, cs, ns, "web-0")
	// OrderedReady: nothing more while web-0 is not Running and Ready.
	stayAbsent(t, ctx, cs, ns, "web-1", 2*time.Second)
	markReady(t, ctx, cs, ns, "web-0")
	rev1 := web0.Labels[appsv1.StatefulSetRevisionLabel]
	if web0.Labels[appsv1.StatefulSetPodNameLabel] != "web-0" || web0.Labels[appsv1.PodIndexLabel] != "0" || !strings.HasPrefix(rev1, "web-") ||
		web0.Spec.Hostname != "web-0" || web0.Spec.Subdomain != "nginx" || controllerOf(&web0) != "StatefulSet/web" {
		t.Fatalf("web-0: labels %v hostname %q subdomain %q owner %s", web0.Labels, web0.Spec.Hostname, web0.Spec.Subdomain, controllerOf(&web0))
	}
	waitAppPodBound(t, ctx, cs, ns, "web-1")
	stayAbsent(t, ctx, cs, ns, "web-2", time.Second)
	markReady(t, ctx, cs, ns, "web-1")
	waitBoundAndReady(t, ctx, cs, ns, "web-2")
	// The defaulted partition (0) makes kubectl report a partitioned roll out, as upstream.
	framework.Contains(t, s.Run("rollout", "status", "statefulset/web", "--timeout=30s"),
		"partitioned roll out complete: 3 new pods have been updated...")
	sts := getJSON[appsv1.StatefulSet](t, s, "statefulset", "web")
	if st := sts.Status; st.Replicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.CurrentReplicas != 3 ||
		st.UpdatedReplicas != 3 || st.CurrentRevision != rev1 || st.UpdateRevision != rev1 || st.ObservedGeneration != sts.Generation {
		t.Fatalf("status %+v", st)
	}
	framework.Contains(t, s.Run("describe", "statefulset", "web"), "SuccessfulCreate", "create Pod web-2 in StatefulSet web successful")

	// Scale down: web-2 goes, the others stay.
	framework.Contains(t, s.Run("scale", "statefulset", "web", "--replicas=2"), "statefulset.apps/web scaled")
	framework.Eventually(t, 30*time.Second, func() error {
		if got := terminating(livePods(t, ctx, cs, ns, "app=web")); strings.Join(got, ",") != "web-2" {
			return errf("terminating %v, want web-2", got)
		}
		return nil
	})
	finishDeletion(t, ctx, cs, ns, "web-2")
	framework.Eventually(t, 30*time.Second, func() error {
		sts := getJSON[appsv1.StatefulSet](t, s, "statefulset", "web")
		if sts.Status.Replicas != 2 || sts.Status.ReadyReplicas != 2 {
			return errf("status %+v", sts.Status)
		}
		return nil
	})
	framework.Contains(t, s.Run("scale", "statefulset", "web", "--replicas=3"), "statefulset.apps/web scaled")
	waitBoundAndReady(t, ctx, cs, ns, "web-2")

	// A new template: the pods are replaced from web-2 down to web-0, one at a time.
	framework.Contains(t, s.Run("set", "image", "statefulset/web", "nginx=registry.k8s.io/pause:3.9"), "statefulset.apps/web image updated")
	var order []string
	var rev2 string
	for i := 0; i < 3; i++ {
		var victim string
		framework.Eventually(t, 30*time.Second, func() error {
			got := terminating(livePods(t, ctx, cs, ns, "app=web"))
			if len(got) != 1 {
				return errf("terminating %v, want one pod", got)
			}
			victim = got[0]
			return nil
		})
		order = append(order, victim)
		finishDeletion(t, ctx, cs, ns, victim)
		p := waitBoundAndReady(t, ctx, cs, ns, victim)
		rev2 = p.Labels[appsv1.StatefulSetRevisionLabel]
		if rev2 == rev1 || p.Spec.Containers[0].Image != "registry.k8s.io/pause:3.9" {
			t.Fatalf("%s came back at %s with %s", victim, rev2, p.Spec.Containers[0].Image)
		}
	}
	if strings.Join(order, ",") != "web-2,web-1,web-0" {
		t.Fatalf("replaced in order %v, want web-2,web-1,web-0", order)
	}
	framework.Contains(t, s.Run("rollout", "status", "statefulset/web", "--timeout=30s"),
		"partitioned roll out complete: 3 new pods have been updated...")
	if sts := getJSON[appsv1.StatefulSet](t, s, "statefulset", "web"); sts.Status.CurrentRevision != rev2 || sts.Status.UpdateRevision != rev2 {
		t.Fatalf("after the update: current %s update %s, want %s", sts.Status.CurrentRevision, sts.Status.UpdateRevision, rev2)
	}
	framework.Matches(t, s.Run("rollout", "history", "statefulset/web"), `(?s)statefulset.apps/web\s*\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>`)
	framework.Contains(t, s.Run("rollout", "history", "statefulset/web", "--revision=1"), "registry.k8s.io/pause:3.10")

	// Undo: the first revision comes back as revision 3, the pods roll again from web-2.
	framework.Contains(t, s.Run("rollout", "undo", "statefulset/web"), "statefulset.apps/web rolled back")
	framework.Eventually(t, 30*time.Second, func() error {
		sts := getJSON[appsv1.StatefulSet](t, s, "statefulset", "web")
		if sts.Status.UpdateRevision != rev1 || sts.Status.CurrentRevision != rev2 {
			return errf("revisions current %s update %s, want %s %s", sts.Status.CurrentRevision, sts.Status.UpdateRevision, rev2, rev1)
		}
		if got := terminating(livePods(t, ctx, cs, ns, "app=web")); strings.Join(got, ",") != "web-2" {
			return errf("terminating %v, want web-2", got)
		}
		return nil
	})
	framework.Matches(t, s.Run("rollout", "history", "statefulset/web"), `(?s)REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>`)
}

// A volumeClaimTemplate gives each pod its claim, named <template>-<set>-<ordinal>;
// without storage the claim stays Pending and so does the pod, with upstream's
// events on the way.
func TestStatefulSetClaimsFromTemplates(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	ns := s.Namespace
	createAppsNode(t, ctx, cs, ns+"-n1", ns)
	s.Apply(fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels: {app: db}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Retain}
  template:
    metadata:
      labels: {app: db}
    spec:
      nodeSelector: {%q: %q}
      containers:
      - name: db
        image: registry.k8s.io/pause:3.10
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`, appsNodeLabel, ns))
	var claim corev1.PersistentVolumeClaim
	framework.Eventually(t, 30*time.Second, func() error {
		claim = getJSON[corev1.PersistentVolumeClaim](t, s, "pvc", "data-db-0")
		if controllerOf(&claim) != "StatefulSet/db" {
			return errf("claim owners %v", claim.OwnerReferences)
		}
		return nil
	})
	if claim.Labels["app"] != "db" || claim.Status.Phase != corev1.ClaimPending {
		t.Errorf("claim labels %v phase %s", claim.Labels, claim.Status.Phase)
	}
	pod := getJSON[corev1.Pod](t, s, "pod", "db-0")
	var claimName string
	for _, v := range pod.Spec.Volumes {
		if v.Name == "data" && v.PersistentVolumeClaim != nil {
			claimName = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claimName != "data-db-0" || pod.Spec.NodeName != "" {
		t.Errorf("db-0 mounts %q, bound to %q", claimName, pod.Spec.NodeName)
	}
	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Run("describe", "statefulset", "db")
		for _, want := range []string{"create Claim data-db-0 Pod db-0 in StatefulSet db success", "create Pod db-0 in StatefulSet db successful"} {
			if !strings.Contains(out, want) {
				return errf("describe lacks %q:\n%s", want, out)
			}
		}
		return nil
	})
}

const daemonSetManifest = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      nodeSelector: {%q: %q}
      containers:
      - name: agent
        image: registry.k8s.io/pause:3.10
`

// A DaemonSet puts one pod on each of its two nodes, pinned by node affinity
// and placed by the scheduler; a third node gets one, a tainted node none; a
// template change rolls one node at a time; kubectl rollout works.
func TestDaemonSetOnePodPerNodeAndRollingUpdate(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := s.Namespace
	n1, n2, n3, tainted := ns+"-n1", ns+"-n2", ns+"-n3", ns+"-tainted"
	createAppsNode(t, ctx, cs, n1, ns)
	createAppsNode(t, ctx, cs, n2, ns)
	framework.Contains(t, s.Apply(fmt.Sprintf(daemonSetManifest, appsNodeLabel, ns)), "daemonset.apps/agent created")

	// byNode waits until the DaemonSet's live pods are bound one per node on exactly nodes.
	byNode := func(nodes ...string) map[string]corev1.Pod {
		var out map[string]corev1.Pod
		framework.Eventually(t, 30*time.Second, func() error {
			out = map[string]corev1.Pod{}
			for _, p := range livePods(t, ctx, cs, ns, "app=agent") {
				if p.DeletionTimestamp != nil {
					continue
				}
				if p.Spec.NodeName == "" {
					return errf("%s not bound yet", p.Name)
				}
				if _, dup := out[p.Spec.NodeName]; dup {
					return errf("two pods on %s", p.Spec.NodeName)
				}
				out[p.Spec.NodeName] = p
			}
			want := append([]string(nil), nodes...)
			sort.Strings(want)
			if got := sortedNames(out); strings.Join(got, ",") != strings.Join(want, ",") {
				return errf("pods on %v, want %v", got, want)
			}
			return nil
		})
		return out
	}
	pods := byNode(n1, n2)
	for node, p := range pods {
		terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Key != "metadata.name" || terms[0].MatchFields[0].Values[0] != node ||
			controllerOf(&p) != "DaemonSet/agent" || p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == "" || !strings.HasPrefix(p.Name, "agent-") {
			t.Fatalf("pod %s on %s: affinity %+v labels %v owner %s", p.Name, node, terms, p.Labels, controllerOf(&p))
		}
		markReady(t, ctx, cs, ns, p.Name)
	}
	framework.Contains(t, s.Run("rollout", "status", "daemonset/agent", "--timeout=30s"), `daemon set "agent" successfully rolled out`)
	framework.Contains(t, s.Run("describe", "daemonset", "agent"), "SuccessfulCreate", "Created pod: agent-")

	// A third node gets a pod; a tainted one does not.
	createAppsNode(t, ctx, cs, n3, ns)
	createAppsNode(t, ctx, cs, tainted, ns, corev1.Taint{Key: "e2e.minik8s.io/dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule})
	pods = byNode(n1, n2, n3)
	markReady(t, ctx, cs, ns, pods[n3].Name)
	framework.Eventually(t, 30*time.Second, func() error {
		ds := getJSON[appsv1.DaemonSet](t, s, "daemonset", "agent")
		st := ds.Status
		if st.DesiredNumberScheduled != 3 || st.CurrentNumberScheduled != 3 || st.NumberReady != 3 || st.NumberAvailable != 3 ||
			st.UpdatedNumberScheduled != 3 || st.NumberMisscheduled != 0 || st.NumberUnavailable != 0 || st.ObservedGeneration != ds.Generation {
			return errf("status %+v", st)
		}
		return nil
	})
	byNode(n1, n2, n3) // still nothing on the tainted node

	// A new template: one node at a time (maxUnavailable 1).
	framework.Contains(t, s.Run("set", "image", "daemonset/agent", "agent=registry.k8s.io/pause:3.9"), "daemonset.apps/agent image updated")
	oldHash := pods[n1].Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	for i := 0; i < 3; i++ {
		var victim string
		framework.Eventually(t, 30*time.Second, func() error {
			got := terminating(livePods(t, ctx, cs, ns, "app=agent"))
			if len(got) != 1 {
				return errf("terminating %v, want one pod", got)
			}
			victim = got[0]
			return nil
		})
		finishDeletion(t, ctx, cs, ns, victim)
		framework.Eventually(t, 30*time.Second, func() error {
			for _, p := range livePods(t, ctx, cs, ns, "app=agent") {
				if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != oldHash && p.Spec.NodeName != "" && p.Status.Phase != corev1.PodRunning {
					markReady(t, ctx, cs, ns, p.Name)
					return nil
				}
			}
			return errf("no new pod bound yet")
		})
	}
	framework.Contains(t, s.Run("rollout", "status", "daemonset/agent", "--timeout=30s"), `daemon set "agent" successfully rolled out`)
	for node, p := range byNode(n1, n2, n3) {
		if p.Spec.Containers[0].Image != "registry.k8s.io/pause:3.9" {
			t.Errorf("pod on %s runs %s", node, p.Spec.Containers[0].Image)
		}
	}
	framework.Matches(t, s.Run("rollout", "history", "daemonset/agent"), `(?s)daemonset.apps/agent\s*\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>`)
	framework.Contains(t, s.Run("rollout", "undo", "daemonset/agent"), "daemonset.apps/agent rolled back")
	framework.Eventually(t, 30*time.Second, func() error {
		if got := terminating(livePods(t, ctx, cs, ns, "app=agent")); len(got) != 1 {
			return errf("terminating %v after the undo, want one pod", got)
		}
		return nil
	})
	framework.Matches(t, s.Run("rollout", "history", "daemonset/agent"), `(?s)REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>`)
}
