package e2e

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// Pods do not run on this cluster (no agent): these tests look at the objects
// the controllers write, not at containers.

func getJSON[T any](t *testing.T, s *framework.Session, args ...string) T {
	t.Helper()
	var v T
	out := s.Run(append([]string{"get", "-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode %v: %v", args, err)
	}
	return v
}

func controllerOf(m metav1.Object) string {
	if ref := metav1.GetControllerOf(m); ref != nil {
		return ref.Kind + "/" + ref.Name
	}
	return ""
}

// A Deployment makes a ReplicaSet named after its template's hash, and that
// makes the pods; kubectl scale changes how many.
func TestDeploymentCreatesAReplicaSetAndItsPods(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Contains(t, s.Run("create", "deployment", "web", "--image=busybox", "--replicas=3"), "deployment.apps/web created")
	var rs appsv1.ReplicaSet
	framework.Eventually(t, 30*time.Second, func() error {
		list := getJSON[appsv1.ReplicaSetList](t, s, "rs")
		if len(list.Items) != 1 {
			return errf("%d replica sets", len(list.Items))
		}
		rs = list.Items[0]
		return nil
	})
	hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if hash == "" || rs.Name != "web-"+hash || controllerOf(&rs) != "Deployment/web" || rs.Annotations["deployment.kubernetes.io/revision"] != "1" {
		t.Fatalf("replica set %s labels %v owner %s annotations %v", rs.Name, rs.Labels, controllerOf(&rs), rs.Annotations)
	}
	pods := func(n int) []corev1.Pod {
		var items []corev1.Pod
		framework.Eventually(t, 30*time.Second, func() error {
			items = nil
			for _, p := range getJSON[corev1.PodList](t, s, "pods").Items {
				if p.DeletionTimestamp == nil {
					items = append(items, p)
				}
			}
			if len(items) != n {
				return errf("%d pods, want %d", len(items), n)
			}
			return nil
		})
		return items
	}
	for _, p := range pods(3) {
		if !strings.HasPrefix(p.Name, rs.Name+"-") || controllerOf(&p) != "ReplicaSet/"+rs.Name || p.Labels["app"] != "web" || p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
			t.Errorf("pod %s owner %s labels %v", p.Name, controllerOf(&p), p.Labels)
		}
	}
	framework.Contains(t, s.Run("scale", "deployment", "web", "--replicas=5"), "deployment.apps/web scaled")
	pods(5)
	s.Run("scale", "deployment", "web", "--replicas=2")
	pods(2)
	framework.Eventually(t, 20*time.Second, func() error {
		return want(s.Run("describe", "deployment", "web"), "Scaled down replica set "+rs.Name+" from 5 to 2")
	})
	framework.Contains(t, s.Run("describe", "rs", rs.Name), "Created pod: "+rs.Name+"-")
	framework.Eventually(t, 20*time.Second, func() error {
		d := getJSON[appsv1.Deployment](t, s, "deployment", "web")
		if d.Status.ObservedGeneration != d.Generation || d.Status.Replicas != 2 || d.Status.UpdatedReplicas != 2 {
			return errf("status %+v", d.Status)
		}
		return nil
	})
}

// A ReplicaSet made with kubectl apply keeps its replicas: a deleted pod is replaced.
func TestReplicaSetReplacesADeletedPod(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Apply(replicaSet("keep", 2))
	var first string
	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Run("get", "pods", "-l", "app=keep", "-o", "name")
		if n := len(strings.Fields(out)); n != 2 {
			return errf("%d pods", n)
		}
		first = strings.Fields(out)[0]
		return nil
	})
	s.Run("delete", first)
	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Run("get", "pods", "-l", "app=keep", "-o", "name")
		if strings.Contains(out, first+"\n") || len(strings.Fields(out)) != 2 {
			return errf("pods:\n%s", out)
		}
		return nil
	})
}

func replicaSet(name string, replicas int) string {
	return `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ` + name + `
spec:
  replicas: ` + itoa(replicas) + `
  selector:
    matchLabels: {app: ` + name + `}
  template:
    metadata:
      labels: {app: ` + name + `}
    spec:
      containers: [{name: c, image: busybox}]
`
}

func itoa(n int) string { return strconv.Itoa(n) }

// matches is framework.Matches for Eventually.
func matches(out, re string) error {
	if !regexp.MustCompile(re).MatchString(out) {
		return errf("output does not match %q:\n%s", re, out)
	}
	return nil
}

// podsOf lists the pods with label app=name, and their controllers.
func podsOf(t *testing.T, s *framework.Session, name string) map[string]string {
	out := map[string]string{}
	for _, p := range getJSON[corev1.PodList](t, s, "pods", "-l", "app="+name).Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = controllerOf(&p)
		}
	}
	return out
}

func waitPods(t *testing.T, s *framework.Session, name string, n int) map[string]string {
	t.Helper()
	var pods map[string]string
	framework.Eventually(t, 30*time.Second, func() error {
		if pods = podsOf(t, s, name); len(pods) != n {
			return errf("%d pods of %s, want %d", len(pods), name, n)
		}
		return nil
	})
	return pods
}

// The three cascade modes of kubectl delete, on a ReplicaSet and its pods.
func TestDeleteCascades(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	t.Run("background", func(t *testing.T) {
		s.Apply(replicaSet("bg", 3))
		waitPods(t, s, "bg", 3)
		framework.Contains(t, s.Run("delete", "rs", "bg"), `replicaset.apps "bg" deleted`)
		waitPods(t, s, "bg", 0)
	})
	t.Run("orphan", func(t *testing.T) {
		s.Apply(replicaSet("orph", 2))
		waitPods(t, s, "orph", 2)
		framework.Contains(t, s.Run("delete", "rs", "orph", "--cascade=orphan"), `replicaset.apps "orph" deleted`)
		framework.Eventually(t, 30*time.Second, func() error {
			pods := podsOf(t, s, "orph")
			if len(pods) != 2 {
				return errf("%d pods left", len(pods))
			}
			for name, owner := range pods {
				if owner != "" {
					return errf("pod %s still owned by %s", name, owner)
				}
			}
			return nil
		})
		framework.Contains(t, s.Fail("get", "rs", "orph"), `replicasets.apps "orph" not found`)
	})
	t.Run("foreground", func(t *testing.T) {
		s.Apply(replicaSet("fg", 3))
		waitPods(t, s, "fg", 3)
		// kubectl waits for the deletion; the pods go before the ReplicaSet.
		framework.Contains(t, s.Run("delete", "rs", "fg", "--cascade=foreground"), `replicaset.apps "fg" deleted`)
		if pods := podsOf(t, s, "fg"); len(pods) != 0 {
			t.Errorf("pods outlived their foreground-deleted owner: %v", pods)
		}
		framework.Contains(t, s.Fail("get", "rs", "fg"), `replicasets.apps "fg" not found`)
	})
	t.Run("a deployment deleted in the foreground takes its replica sets and pods", func(t *testing.T) {
		s.Run("create", "deployment", "fgd", "--image=busybox", "--replicas=2")
		waitPods(t, s, "fgd", 2)
		s.Run("delete", "deployment", "fgd", "--cascade=foreground")
		if out := s.Run("get", "rs,pods", "-l", "app=fgd", "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("left behind:\n%s", out)
		}
	})
}

// kubectl rollout history lists each template's revision with its change
// cause; kubectl rollout undo brings an earlier one back as the newest.
func TestRolloutHistoryAndUndo(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Run("create", "deployment", "roll", "--image=busybox:1.34", "--replicas=2")
	// Pods never become ready here: let the rollout replace them all at once.
	s.Run("patch", "deployment", "roll", "-p", `{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":"100%"}}}}`)
	s.Run("annotate", "deployment", "roll", "kubernetes.io/change-cause=first")
	revisions := func(n int) {
		t.Helper()
		framework.Eventually(t, 30*time.Second, func() error {
			if got := len(getJSON[appsv1.ReplicaSetList](t, s, "rs", "-l", "app=roll").Items); got != n {
				return errf("%d replica sets, want %d", got, n)
			}
			return nil
		})
	}
	revisions(1)
	for _, step := range []struct{ image, cause string }{{"busybox:1.35", "second"}, {"busybox:1.36", "third"}} {
		s.Run("set", "image", "deployment/roll", "busybox="+step.image)
		s.Run("annotate", "deployment", "roll", "kubernetes.io/change-cause="+step.cause, "--overwrite")
	}
	revisions(3)
	framework.Eventually(t, 30*time.Second, func() error {
		return matches(s.Run("rollout", "history", "deployment/roll"), `(?s)REVISION\s+CHANGE-CAUSE\s+1\s+first\s+2\s+second\s+3\s+third`)
	})
	framework.Contains(t, s.Run("rollout", "history", "deployment/roll", "--revision=2"), "busybox:1.35")
	framework.Contains(t, s.Run("rollout", "undo", "deployment/roll"), "deployment.apps/roll rolled back")
	framework.Eventually(t, 30*time.Second, func() error {
		return matches(s.Run("rollout", "history", "deployment/roll"), `(?s)1\s+first\s+3\s+third\s+4\s+second`)
	})
	framework.Eventually(t, 30*time.Second, func() error {
		d := getJSON[appsv1.Deployment](t, s, "deployment", "roll")
		if d.Spec.Template.Spec.Containers[0].Image != "busybox:1.35" || d.Annotations["deployment.kubernetes.io/revision"] != "4" {
			return errf("image %s revision %s", d.Spec.Template.Spec.Containers[0].Image, d.Annotations["deployment.kubernetes.io/revision"])
		}
		return nil
	})
	s.Run("rollout", "undo", "deployment/roll", "--to-revision=1")
	framework.Eventually(t, 30*time.Second, func() error {
		return matches(s.Run("rollout", "history", "deployment/roll"), `(?s)3\s+third\s+4\s+second\s+5\s+first`)
	})
	framework.Contains(t, s.Fail("rollout", "undo", "deployment/roll", "--to-revision=9"), "unable to find specified revision 9 in history")
	// The ReplicaSet now running the first template runs all the pods.
	framework.Eventually(t, 30*time.Second, func() error {
		var sizes []string
		for _, rs := range getJSON[appsv1.ReplicaSetList](t, s, "rs", "-l", "app=roll").Items {
			sizes = append(sizes, rs.Spec.Template.Spec.Containers[0].Image+"="+itoa(int(*rs.Spec.Replicas)))
		}
		sort.Strings(sizes)
		if strings.Join(sizes, ",") != "busybox:1.34=2,busybox:1.35=0,busybox:1.36=0" {
			return errf("sizes %v", sizes)
		}
		return nil
	})
}

// --disable-controllers takes upstream's names; an unknown one is refused at once.
func TestDisableControllers(t *testing.T) {
	bin, err := framework.Binary()
	if err != nil {
		t.Skip(err)
	}
	out, err := exec.Command(bin, "server", "--disable-agent", "--data-dir", t.TempDir(), "--disable-controllers", "replicaset,nope").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown controller "nope"; known controllers:`) || !strings.Contains(string(out), "garbage-collector-controller") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent", "--disable-controllers", "replicaset"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	s := framework.NewSession(t, c, framework.KubectlPath(t, ""))
	s.Run("create", "deployment", "off", "--image=busybox", "--replicas=2")
	// The deployment controller runs and makes its ReplicaSet, which stays without pods.
	framework.Eventually(t, 30*time.Second, func() error {
		return want(s.Run("get", "rs", "-l", "app=off", "-o", "name"), "replicaset.apps/off-")
	})
	time.Sleep(2 * time.Second)
	if out := s.Run("get", "pods", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("pods made with the replicaset controller disabled:\n%s", out)
	}
}
