package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// pods/ephemeralcontainers is served as upstream: get, strategic-merge patch
// (what kubectl debug sends) and update, each bumping the pod's generation,
// refusing removals.
func TestPodEphemeralContainersSubresource(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cfg, err := cluster.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pods := cs.CoreV1().Pods(s.Namespace)
	_, err = pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "target"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox", Command: []string{"sleep", "3600"}}}}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"ephemeralContainers": []any{
		map[string]any{"name": "debugger", "image": "busybox", "targetContainerName": "app", "stdin": true, "tty": true}}}})
	p, err := pods.Patch(ctx, "target", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "ephemeralcontainers")
	if err != nil {
		t.Fatalf("patch ephemeralcontainers: %v", err)
	}
	if p.Generation != 2 || len(p.Spec.EphemeralContainers) != 1 || p.Spec.EphemeralContainers[0].TerminationMessagePolicy != corev1.TerminationMessageReadFile {
		t.Fatalf("after the patch: generation %d, ephemeral containers %+v", p.Generation, p.Spec.EphemeralContainers)
	}

	raw := s.Run("get", "--raw", "/api/v1/namespaces/"+s.Namespace+"/pods/target/ephemeralcontainers")
	var got corev1.Pod
	if err := json.Unmarshal([]byte(raw), &got); err != nil || got.Kind != "Pod" || len(got.Spec.EphemeralContainers) != 1 {
		t.Fatalf("get ephemeralcontainers: %v %s", err, raw)
	}

	got.Spec.EphemeralContainers = append(got.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger2", Image: "busybox",
			ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile}})
	up, err := pods.UpdateEphemeralContainers(ctx, "target", &got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update ephemeralcontainers: %v", err)
	}
	if up.Generation != 3 || len(up.Spec.EphemeralContainers) != 2 {
		t.Fatalf("after the update: generation %d, %d ephemeral containers", up.Generation, len(up.Spec.EphemeralContainers))
	}

	up.Spec.EphemeralContainers = up.Spec.EphemeralContainers[:1]
	_, err = pods.UpdateEphemeralContainers(ctx, "target", up, metav1.UpdateOptions{})
	if err == nil || !strings.Contains(err.Error(), `existing ephemeral containers "debugger2" may not be removed`) {
		t.Fatalf("removing an ephemeral container: %v", err)
	}

	// kubectl debug adds one through the same subresource.
	s.Run("debug", "target", "--image=busybox", "-c", "third", "--", "true")
	framework.Contains(t, s.Run("get", "pod", "target", "-o", "jsonpath={.spec.ephemeralContainers[*].name}"), "debugger debugger2 third")
}
