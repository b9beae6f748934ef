package volumes

import (
	"context"
	"fmt"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// tokens requests service account tokens for projected volumes and keeps each until
// 80% of its life has passed, as upstream's token manager does.
type tokens struct {
	client kubernetes.Interface
	mu     sync.Mutex
	cache  map[string]cachedToken
}

type cachedToken struct {
	token   string
	refresh time.Time
}

func (t *tokens) token(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(3600)
	if src.ExpirationSeconds != nil {
		exp = *src.ExpirationSeconds
	}
	key := fmt.Sprintf("%s/%s/%s/%s/%d", pod.UID, sa, src.Audience, src.Path, exp)
	t.mu.Lock()
	c, ok := t.cache[key]
	t.mu.Unlock()
	if ok && time.Now().Before(c.refresh) {
		return c.token, nil
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	start := time.Now()
	resp, err := t.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("failed to fetch token: %w", err)
	}
	life := resp.Status.ExpirationTimestamp.Sub(start)
	t.mu.Lock()
	if t.cache == nil {
		t.cache = map[string]cachedToken{}
	}
	t.cache[key] = cachedToken{token: resp.Status.Token, refresh: start.Add(life * 8 / 10)}
	t.mu.Unlock()
	return resp.Status.Token, nil
}

func (t *tokens) forget(pod *corev1.Pod) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.cache {
		if len(k) > len(pod.UID) && k[:len(pod.UID)] == string(pod.UID) {
			delete(t.cache, k)
		}
	}
}
