package pods

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes"
)

// statusWriter reports pod status with strategic merge patches of pods/status, as
// upstream's kubelet does, skipping writes that change nothing.
type statusWriter struct {
	client kubernetes.Interface
	log    *slog.Logger
	mu     sync.Mutex
	// last is the status last written per pod, which the next patch is computed from.
	last map[types.UID]corev1.PodStatus
}

func (s *statusWriter) write(ctx context.Context, pod *corev1.Pod, st corev1.PodStatus) error {
	s.mu.Lock()
	if s.last == nil {
		s.last = map[types.UID]corev1.PodStatus{}
	}
	base, ok := s.last[pod.UID]
	s.mu.Unlock()
	if !ok {
		base = pod.Status
	}
	if equality.Semantic.DeepEqual(base, st) && equality.Semantic.DeepEqual(pod.Status, st) {
		return nil
	}
	oldJSON, err := json.Marshal(corev1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newJSON, err := json.Marshal(corev1.Pod{Status: st})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, corev1.Pod{})
	if err != nil {
		return fmt.Errorf("status patch: %w", err)
	}
	// The uid makes the patch fail on a pod of the same name created since.
	patch, err = withUID(patch, pod.UID)
	if err != nil {
		return err
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1PatchOptions, "status")
	if err != nil {
		if kerrors.IsNotFound(err) || kerrors.IsConflict(err) {
			return nil
		}
		return fmt.Errorf("patch status of %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	s.mu.Lock()
	s.last[pod.UID] = st
	s.mu.Unlock()
	return nil
}

func (s *statusWriter) forget(uid types.UID) {
	s.mu.Lock()
	delete(s.last, uid)
	s.mu.Unlock()
}

func withUID(patch []byte, uid types.UID) ([]byte, error) {
	var m map[string]interface{}
	if err := json.Unmarshal(patch, &m); err != nil {
		return nil, err
	}
	meta, _ := m["metadata"].(map[string]interface{})
	if meta == nil {
		meta = map[string]interface{}{}
	}
	meta["uid"] = string(uid)
	m["metadata"] = meta
	return json.Marshal(m)
}
