package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// containerLog reads a container's log as the node wrote it (without kubectl logs).
func containerLog(t *testing.T, s *framework.Session, pod, container string) string {
	t.Helper()
	uid := s.Run("get", "pod", pod, "-o", "jsonpath={.metadata.uid}")
	matches, _ := filepath.Glob(filepath.Join(cluster.DataDir, "agent", "logs", "pods",
		fmt.Sprintf("%s_%s_%s", s.Namespace, pod, uid), container, "*.log"))
	var out strings.Builder
	for _, m := range matches {
		data, _ := os.ReadFile(m)
		for _, line := range strings.Split(string(data), "\n") {
			if parts := strings.SplitN(line, " ", 4); len(parts) == 4 {
				out.WriteString(parts[3] + "\n")
			}
		}
	}
	return out.String()
}

// Every kind of volume a pod can use shows the right files inside the container.
func TestVolumes(t *testing.T) {
	s := session(t)
	s.Run("create", "configmap", "app", "--from-literal=color=blue", "--from-literal=size=L")
	s.Run("create", "secret", "generic", "creds", "--from-literal=password=s3cret")
	hostDir := t.TempDir()
	m := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: vols
  labels: {tier: web}
spec:
  nodeName: %s
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "set -e; test \"$(cat /cfg/color)\" = blue; test \"$(cat /sec/password)\" = s3cret; test \"$(cat /one/only)\" = L; grep -q 'tier=\"web\"' /info/labels; echo hi > /scratch/f; test \"$(cat /scratch/f)\" = hi; echo x > /host/written; test -s /var/run/secrets/kubernetes.io/serviceaccount/token; test -s /var/run/secrets/kubernetes.io/serviceaccount/ca.crt; grep -q vols /etc/hosts; test \"$(cat /sub/color)\" = blue; echo ok"]
    volumeMounts:
    - {name: cfg, mountPath: /cfg, readOnly: true}
    - {name: sec, mountPath: /sec}
    - {name: one, mountPath: /one}
    - {name: info, mountPath: /info}
    - {name: scratch, mountPath: /scratch}
    - {name: host, mountPath: /host}
    - {name: cfg, mountPath: /sub/color, subPath: color}
  volumes:
  - {name: cfg, configMap: {name: app}}
  - {name: sec, secret: {secretName: creds}}
  - {name: one, configMap: {name: app, items: [{key: size, path: only}]}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: scratch, emptyDir: {medium: Memory}}
  - {name: host, hostPath: {path: %s, type: Directory}}
`, nodeName, hostDir)
	s.Apply(m)
	waitField(t, s, "vols", "{.status.containerStatuses[0].state.terminated.reason}", "Completed")
	framework.Contains(t, containerLog(t, s, "vols", "c"), "ok")
	if _, err := os.Stat(filepath.Join(hostDir, "written")); err != nil {
		t.Fatalf("the hostPath write did not reach the host: %v", err)
	}
	uid := s.Run("get", "pod", "vols", "-o", "jsonpath={.metadata.uid}")
	s.Run("delete", "pod", "vols")
	framework.Eventually(t, 30*time.Second, func() error {
		if data, _ := os.ReadFile("/proc/mounts"); strings.Contains(string(data), uid) {
			return fmt.Errorf("mounts of the pod remain")
		}
		return nil
	})
}

// A ConfigMap change reaches the files of a running pod.
func TestConfigMapUpdateReachesRunningPod(t *testing.T) {
	s := session(t)
	s.Run("create", "configmap", "live", "--from-literal=v=one")
	m := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: watcher
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "until grep -q two /cfg/v; do sleep 1; done; echo saw-two; sleep 3600"]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes: [{name: cfg, configMap: {name: live}}]
`, nodeName)
	s.Apply(m)
	s.Run("wait", "--for=condition=Ready", "pod/watcher", "--timeout=60s")
	s.Run("patch", "configmap", "live", "-p", `{"data":{"v":"two"}}`)
	framework.Eventually(t, 90*time.Second, func() error {
		if !strings.Contains(containerLog(t, s, "watcher", "c"), "saw-two") {
			return fmt.Errorf("the pod has not seen the new value yet")
		}
		return nil
	})
}

// Environment variables come from values, fields, ConfigMaps, Secrets and Services.
func TestEnvironment(t *testing.T) {
	s := session(t)
	s.Run("create", "configmap", "env", "--from-literal=MODE=fast", "--from-literal=bad-name=x")
	s.Run("create", "secret", "generic", "tok", "--from-literal=token=abc")
	m := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: env
spec:
  nodeName: %s
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["env"]
    resources: {limits: {memory: 64Mi}}
    envFrom: [{configMapRef: {name: env}, prefix: CFG_}]
    env:
    - {name: GREETING, value: hello}
    - {name: COMBINED, value: "$(GREETING)-world"}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: MEM_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: tok, key: token}}}
`, nodeName)
	s.Apply(m)
	waitField(t, s, "env", "{.status.containerStatuses[0].state.terminated.reason}", "Completed")
	out := containerLog(t, s, "env", "c")
	framework.Contains(t, out, "GREETING=hello", "COMBINED=hello-world", "POD_NAME=env", "POD_NAMESPACE="+s.Namespace,
		"POD_IP=10.250.", "MEM_LIMIT=64", "TOKEN=abc", "CFG_MODE=fast", "KUBERNETES_SERVICE_HOST=")
	framework.Contains(t, out, "CFG_bad-name=x")
}

// A missing ConfigMap keeps the container waiting with upstream's reason until it exists.
func TestMissingConfigMap(t *testing.T) {
	s := session(t)
	m := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: needs-cm
spec:
  nodeName: %s
  containers:
  - name: c
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: later, key: x}}}]
`, nodeName)
	s.Apply(m)
	waitField(t, s, "needs-cm", "{.status.containerStatuses[0].state.waiting.reason}", "CreateContainerConfigError")
	framework.Matches(t, s.Run("get", "pod", "needs-cm"), `needs-cm\s+0/1\s+CreateContainerConfigError`)
	s.Run("create", "configmap", "later", "--from-literal=x=1")
	s.Run("wait", "--for=condition=Ready", "pod/needs-cm", "--timeout=60s")
}
