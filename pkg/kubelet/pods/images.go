package pods

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// WaitingError is a failure that leaves a container waiting with a reason, such as
// ErrImagePull or ImagePullBackOff.
type WaitingError struct {
	Reason, Message string
}

func (e *WaitingError) Error() string { return e.Reason + ": " + e.Message }

// Credentials returns registry credentials for a pod's image pull secrets.
type Credentials interface {
	For(ctx context.Context, pod *corev1.Pod, image string) ([]*runtimeapi.AuthConfig, error)
}

// Images makes sure a container's image is present, pulling by the image pull policy.
type Images struct {
	runtime  runtime.CRI
	recorder record.EventRecorder
	creds    Credentials
	mu       sync.Mutex
	failures map[string]pullFailure
}

// pullFailure is when an image pull last failed and how long to wait before the
// next try: 10s after the first failure, doubling up to 5 minutes, as upstream.
type pullFailure struct {
	at    time.Time
	delay time.Duration
}

// NewImages returns the image puller; creds may be nil.
func NewImages(rt runtime.CRI, rec record.EventRecorder, creds Credentials) *Images {
	return &Images{runtime: rt, recorder: rec, creds: creds,
		failures: map[string]pullFailure{}}
}

// Ensure returns the image reference to run, pulling it if the policy says so.
func (im *Images) Ensure(ctx context.Context, pod *corev1.Pod, c *corev1.Container, sb *runtimeapi.PodSandboxConfig) (string, error) {
	image := c.Image
	present, err := im.runtime.ImageStatus(ctx, image)
	if err != nil {
		return "", fmt.Errorf("image status of %s: %w", image, err)
	}
	policy := c.ImagePullPolicy
	switch {
	case policy == corev1.PullNever && present == nil:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", image)
		im.recorder.Eventf(pod, corev1.EventTypeWarning, "ErrImageNeverPull", "%s", msg)
		return "", &WaitingError{Reason: "ErrImageNeverPull", Message: msg}
	case policy == corev1.PullNever || (policy == corev1.PullIfNotPresent && present != nil):
		im.recorder.Eventf(pod, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", image)
		return image, nil
	}
	key := string(pod.UID) + "/" + c.Name + "/" + image
	im.mu.Lock()
	last, failed := im.failures[key]
	im.mu.Unlock()
	if failed {
		if time.Now().Before(last.at.Add(last.delay)) {
			im.recorder.Eventf(pod, corev1.EventTypeNormal, "BackOff", "Back-off pulling image %q", image)
			return "", &WaitingError{Reason: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q", image)}
		}
	}
	im.recorder.Eventf(pod, corev1.EventTypeNormal, "Pulling", "Pulling image %q", image)
	start := time.Now()
	_, err = im.pull(ctx, pod, image, sb)
	if err != nil {
		now := time.Now()
		im.mu.Lock()
		f := pullFailure{at: now, delay: lifecycle.BackoffInitial}
		if prev, ok := im.failures[key]; ok {
			f.delay = min(prev.delay*2, lifecycle.BackoffMax)
		}
		im.failures[key] = f
		im.mu.Unlock()
		msg := fmt.Sprintf("Failed to pull image %q: %v", image, err)
		im.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "%s", msg)
		im.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: ErrImagePull")
		return "", &WaitingError{Reason: "ErrImagePull", Message: msg}
	}
	im.mu.Lock()
	delete(im.failures, key)
	im.mu.Unlock()
	d := time.Since(start).Round(time.Millisecond)
	im.recorder.Eventf(pod, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s (%s including waiting)", image, d, d)
	return image, nil
}

func (im *Images) pull(ctx context.Context, pod *corev1.Pod, image string, sb *runtimeapi.PodSandboxConfig) (string, error) {
	var auths []*runtimeapi.AuthConfig
	if im.creds != nil {
		var err error
		if auths, err = im.creds.For(ctx, pod, image); err != nil {
			return "", err
		}
	}
	if len(auths) == 0 {
		auths = []*runtimeapi.AuthConfig{nil}
	}
	var lastErr error
	for _, a := range auths {
		ref, err := im.runtime.PullImage(ctx, image, a, sb)
		if err == nil {
			return ref, nil
		}
		lastErr = err
	}
	return "", trimRPC(lastErr)
}

// trimRPC drops the gRPC wrapping from a runtime error for messages.
func trimRPC(err error) error {
	s := err.Error()
	if i := strings.Index(s, "desc = "); i >= 0 {
		s = s[i+len("desc = "):]
	}
	return fmt.Errorf("%s", s)
}

// Forget drops the pull failures of a pod that is gone.
func (im *Images) Forget(uid string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	for k := range im.failures {
		if strings.HasPrefix(k, uid+"/") {
			delete(im.failures, k)
		}
	}
}
