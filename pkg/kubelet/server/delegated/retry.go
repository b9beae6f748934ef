package delegated

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
)

// defaultBackoff is upstream's retry of a review that failed for a passing
// reason (--authentication-token-webhook and Webhook authorization share it).
func defaultBackoff() wait.Backoff {
	return wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
}

// withRetries calls create until it succeeds, fails for good, the backoff's
// steps run out or ctx ends; it returns the last error.
func withRetries(ctx context.Context, backoff wait.Backoff, create func() error) error {
	for {
		err := create()
		if err == nil || !transient(err) || backoff.Steps <= 1 {
			return err
		}
		t := time.NewTimer(backoff.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// transient reports whether a failed review is worth asking again: the
// connection dropped, or the server was overloaded or failed inside.
func transient(err error) bool {
	if utilnet.IsConnectionReset(err) || utilnet.IsHTTP2ConnectionLost(err) ||
		apierrors.IsInternalError(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) {
		return true
	}
	_, retry := apierrors.SuggestsClientDelay(err)
	return retry
}
