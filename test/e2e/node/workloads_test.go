package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// busyDeployment is a Deployment of busybox pods that sleep, with a rolling
// update that may take one pod away and add one.
func busyDeployment(name string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  strategy:
    rollingUpdate: {maxUnavailable: 1, maxSurge: 1}
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      containers:
      - name: c
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: ["sleep", "3600"]
`, name, replicas)
}

// The controllers on the real node, walked with kubectl as a user would: every
// rollout command, a rolling update watched for availability, a rollback, a
// killed pod replaced, the cascade modes, a drained node, jobs that fail and
// retry, a cronjob that fires and an autoscaler that scales out and back in.
func TestWorkloadsOnTheRealNode(t *testing.T) {
	s := session(t)
	// The cronjob fires at the next minute: it is created first and checked
	// last, so the wait overlaps the other cases.
	s.Apply(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          automountServiceAccountToken: false
          containers:
          - name: c
            image: busybox:1.36
            imagePullPolicy: IfNotPresent
            command: ["echo", "tick"]
`)

	t.Run("a rolling update keeps replicas minus maxUnavailable ready, and every rollout command works", func(t *testing.T) {
		s.Apply(busyDeployment("roll", 3))
		framework.Contains(t, s.Run("rollout", "status", "deployment/roll", "--timeout=90s"), `deployment "roll" successfully rolled out`)
		low := watchReady(t, s.Namespace, "app=roll")
		framework.Contains(t, s.Run("set", "env", "deployment/roll", "STAGE=two"), "deployment.apps/roll env updated")
		framework.Contains(t, s.Run("rollout", "status", "deployment/roll", "--timeout=90s"), `deployment "roll" successfully rolled out`)
		if min := low(); min < 2 {
			t.Errorf("during the rolling update only %d pods were ready and not terminating, want at least 2 (3 - maxUnavailable)", min)
		}
		framework.Contains(t, s.Run("annotate", "deployment/roll", "kubernetes.io/change-cause=stage two"), "annotated")
		framework.Eventually(t, 30*time.Second, func() error {
			if hist := s.Run("rollout", "history", "deployment/roll"); !strings.Contains(hist, "REVISION  CHANGE-CAUSE") ||
				!strings.Contains(hist, "1         <none>") || !strings.Contains(hist, "2         stage two") {
				return fmt.Errorf("rollout history:\n%s", hist)
			}
			return nil
		})
		framework.Matches(t, s.Run("rollout", "history", "deployment/roll", "--revision=2"), `STAGE:\s+two`)

		framework.Contains(t, s.Run("rollout", "undo", "deployment/roll"), "deployment.apps/roll rolled back")
		s.Run("rollout", "status", "deployment/roll", "--timeout=90s")
		if env := s.Run("get", "deployment", "roll", "-o", "jsonpath={.spec.template.spec.containers[0].env}"); env != "" {
			t.Errorf("after undo the template still has env %s", env)
		}
		framework.Contains(t, s.Run("get", "deployment", "roll", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"), "3")

		framework.Contains(t, s.Run("rollout", "pause", "deployment/roll"), "deployment.apps/roll paused")
		s.Run("set", "env", "deployment/roll", "STAGE=paused")
		time.Sleep(2 * time.Second)
		if n := s.Run("get", "rs", "-l", "app=roll", "--no-headers"); len(strings.Split(strings.TrimSpace(n), "\n")) != 2 {
			t.Errorf("a paused deployment rolled out anyway:\n%s", n)
		}
		framework.Contains(t, s.Run("rollout", "resume", "deployment/roll"), "deployment.apps/roll resumed")
		s.Run("rollout", "status", "deployment/roll", "--timeout=90s")
		framework.Contains(t, s.Run("rollout", "restart", "deployment/roll"), "deployment.apps/roll restarted")
		s.Run("rollout", "status", "deployment/roll", "--timeout=90s")
		framework.Contains(t, s.Run("scale", "deployment/roll", "--replicas=1"), "deployment.apps/roll scaled")
		framework.Eventually(t, 60*time.Second, func() error {
			if got := s.Run("get", "pods", "-l", "app=roll", "--no-headers"); strings.Count(got, "Running") != 1 || strings.Count(strings.TrimSpace(got), "\n") != 0 {
				return fmt.Errorf("after scale to 1:\n%s", got)
			}
			return nil
		})
		s.Run("delete", "deployment", "roll", "--wait=true")
	})

	t.Run("a killed pod is replaced and the cascade modes do as upstream", func(t *testing.T) {
		s.Apply(busyDeployment("heal", 2))
		s.Run("rollout", "status", "deployment/heal", "--timeout=90s")
		victim := strings.Fields(s.Run("get", "pods", "-l", "app=heal", "-o", "name"))[0]
		s.Run("delete", victim, "--wait=false")
		framework.Eventually(t, 60*time.Second, func() error {
			got := s.Run("get", "pods", "-l", "app=heal", "--field-selector=status.phase=Running", "-o", "name")
			if strings.Contains(got, victim) || len(strings.Fields(got)) != 2 {
				return fmt.Errorf("running pods %q, want two new ones beside the deleted %s", got, victim)
			}
			return nil
		})

		rs := strings.TrimSpace(s.Run("get", "rs", "-l", "app=heal", "-o", "name"))
		// orphan: the Deployment goes, its ReplicaSet and pods stay, without owner.
		s.Run("delete", "deployment", "heal", "--cascade=orphan")
		framework.Eventually(t, 30*time.Second, func() error {
			if owners := s.Run("get", rs, "-o", "jsonpath={.metadata.ownerReferences}"); owners != "" {
				return fmt.Errorf("%s still owned: %s", rs, owners)
			}
			return nil
		})
		if n := len(strings.Fields(s.Run("get", "pods", "-l", "app=heal", "-o", "name"))); n != 2 {
			t.Errorf("after an orphaning delete %d pods are left, want 2", n)
		}
		// foreground: the ReplicaSet is gone only after its pods.
		s.Run("delete", rs, "--cascade=foreground", "--wait=true", "--timeout=60s")
		if got := s.Run("get", "pods", "-l", "app=heal", "-o", "name"); strings.TrimSpace(got) != "" {
			t.Errorf("after a foreground delete of its ReplicaSet, pods remain: %s", got)
		}
		// background: the owner goes at once, the collector takes the pods.
		s.Apply(busyDeployment("bg", 1))
		s.Run("rollout", "status", "deployment/bg", "--timeout=90s")
		s.Run("delete", "deployment", "bg", "--cascade=background")
		framework.Eventually(t, 60*time.Second, func() error {
			if got := s.Run("get", "rs,pods", "-l", "app=bg", "-o", "name"); strings.TrimSpace(got) != "" {
				return fmt.Errorf("left after a background delete: %s", got)
			}
			return nil
		})
	})

	t.Run("a drained node's pods are evicted and come back after uncordon", func(t *testing.T) {
		s.Apply(busyDeployment("drainme", 2))
		s.Run("rollout", "status", "deployment/drainme", "--timeout=90s")
		t.Cleanup(func() { s.Do("uncordon", nodeName) })
		out := s.Run("drain", nodeName, "--pod-selector=app=drainme", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
		framework.Contains(t, out, "node/"+nodeName+" cordoned", "evicting pod "+s.Namespace+"/drainme-", "node/"+nodeName+" drained")
		framework.Eventually(t, 30*time.Second, func() error {
			got := s.Run("get", "pods", "-l", "app=drainme", "--no-headers")
			if strings.Count(got, "Pending") != 2 {
				return fmt.Errorf("want the 2 replacements Pending on the cordoned node:\n%s", got)
			}
			return nil
		})
		framework.Contains(t, s.Run("uncordon", nodeName), "node/"+nodeName+" uncordoned")
		s.Run("rollout", "status", "deployment/drainme", "--timeout=90s")
		s.Run("delete", "deployment", "drainme", "--wait=true")
	})

	t.Run("a job retries failed pods up to its backoffLimit, and a parallel one completes", func(t *testing.T) {
		s.Apply(`apiVersion: batch/v1
kind: Job
metadata:
  name: flaky
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      containers:
      - name: c
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "exit 3"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: pair
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      containers:
      - name: c
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: ["echo", "done"]
`)
		framework.Contains(t, s.Run("wait", "--for=condition=Complete", "job/pair", "--timeout=90s"), "condition met")
		framework.Contains(t, s.Run("get", "job", "pair", "-o", "jsonpath={.status.succeeded}"), "2")
		framework.Contains(t, s.Run("wait", "--for=condition=Failed", "job/flaky", "--timeout=120s"), "condition met")
		framework.Contains(t, s.Run("get", "job", "flaky", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}"), "BackoffLimitExceeded")
		if failed := s.Run("get", "job", "flaky", "-o", "jsonpath={.status.failed}"); failed != "2" {
			t.Errorf("status.failed = %q, want 2 (the first try and one retry)", failed)
		}
	})

	t.Run("an autoscaler scales a CPU-burning deployment out and back in", func(t *testing.T) {
		// Each pod burns a CPU for 40 s, then idles: the autoscaler sees the
		// load, adds pods, then sees it go and removes them.
		s.Apply(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: burn
spec:
  replicas: 1
  selector:
    matchLabels: {app: burn}
  template:
    metadata:
      labels: {app: burn}
    spec:
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      containers:
      - name: c
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "end=$(( $(date +%s) + 40 )); while [ $(date +%s) -lt $end ]; do :; done; exec sleep 3600"]
        resources:
          requests: {cpu: 100m}
          limits: {cpu: 500m}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: burn
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 2
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
`)
		framework.Eventually(t, 90*time.Second, func() error {
			if got := s.Run("get", "deployment", "burn", "-o", "jsonpath={.spec.replicas}"); got != "2" {
				return fmt.Errorf("replicas %s, want 2 under load (hpa: %s)", got, s.Run("get", "hpa", "burn", "--no-headers"))
			}
			return nil
		})
		framework.Contains(t, s.Run("describe", "hpa", "burn"), "SuccessfulRescale", "New size: 2; reason: cpu resource utilization (percentage of request) above target")
		framework.Eventually(t, 120*time.Second, func() error {
			if got := s.Run("get", "deployment", "burn", "-o", "jsonpath={.spec.replicas}"); got != "1" {
				return fmt.Errorf("replicas %s, want 1 once the load is gone (hpa: %s)", got, s.Run("get", "hpa", "burn", "--no-headers"))
			}
			return nil
		})
		s.Run("delete", "hpa,deployment", "burn", "--wait=true")
	})

	t.Run("a cronjob fires on its schedule", func(t *testing.T) {
		framework.Eventually(t, 90*time.Second, func() error {
			if got := s.Run("get", "cronjob", "tick", "-o", "jsonpath={.status.lastSuccessfulTime}"); got == "" {
				return fmt.Errorf("no successful run yet (jobs: %s)", s.Run("get", "jobs", "--no-headers"))
			}
			return nil
		})
		framework.Matches(t, s.Run("get", "jobs", "-o", "name"), `job.batch/tick-\d+`)
		s.Run("delete", "cronjob", "tick", "--wait=true")
	})
}

// watchReady polls the pods of selector in namespace until the test ends, and
// returns a function giving the fewest that were Ready and not terminating.
func watchReady(t *testing.T, namespace, selector string) func() int {
	t.Helper()
	client := cluster.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	lowest := -1
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err == nil {
				n := 0
				for _, p := range pods.Items {
					if p.DeletionTimestamp == nil && podReady(&p) {
						n++
					}
				}
				mu.Lock()
				if lowest < 0 || n < lowest {
					lowest = n
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	stop := func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return func() int {
		stop()
		mu.Lock()
		defer mu.Unlock()
		return lowest
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
