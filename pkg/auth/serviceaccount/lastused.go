package serviceaccount

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// LastUsedConfig wires a LastUsedTracker.
type LastUsedConfig struct {
	// Patch applies a JSON merge patch to a Secret (through the API, so that
	// watchers see the label change).
	Patch func(ctx context.Context, namespace, name string, mergePatch []byte) error
	// Now is the tracker's clock; nil means time.Now.
	Now func() time.Time
	// Backlog is how many writes may wait; more are dropped until the next
	// use (zero: 1024).
	Backlog int
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *LastUsedConfig) Validate() error {
	if c.Patch == nil {
		return errors.New("last-used tracker: a patch function is required")
	}
	if c.Backlog < 0 {
		return errors.New("last-used tracker: the backlog must not be negative")
	}
	return nil
}

// LastUsedTracker keeps the kubernetes.io/legacy-token-last-used label of the
// Secrets whose tokens are used at today's UTC date, as upstream's API server
// does. Writes happen off the request's path and are best effort: a request
// never waits for one nor fails with it, and a Secret is written at most once
// a day (again after a failed write), however often its token is used.
type LastUsedTracker struct {
	cfg   LastUsedConfig
	log   *slog.Logger
	queue chan usedSecret

	mu    sync.Mutex
	day   string             // the day noted is about
	noted map[types.UID]bool // secrets written, or queued, on day
}

// usedSecret is one label write to make.
type usedSecret struct {
	namespace, name string
	uid             types.UID
	day             string
}

// NewLastUsedTracker returns a tracker whose writes happen once Run runs.
func NewLastUsedTracker(cfg LastUsedConfig) (*LastUsedTracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backlog == 0 {
		cfg.Backlog = 1024
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LastUsedTracker{cfg: cfg, log: log, queue: make(chan usedSecret, cfg.Backlog), noted: map[types.UID]bool{}}, nil
}

// Used notes that the token of secret (as the authenticator read it) was just
// presented; a label that says today, or tomorrow (another server's clock),
// is left as it is. It never blocks.
func (t *LastUsedTracker) Used(secret *corev1.Secret) {
	if t == nil {
		return
	}
	now := t.cfg.Now().UTC()
	today := now.Format(DateFormat)
	if l := secret.Labels[LastUsedLabelKey]; l == today || l == now.AddDate(0, 0, 1).Format(DateFormat) {
		return
	}
	t.mu.Lock()
	if t.day != today {
		t.day, t.noted = today, map[types.UID]bool{}
	}
	if t.noted[secret.UID] {
		t.mu.Unlock()
		return
	}
	t.noted[secret.UID] = true
	t.mu.Unlock()
	select {
	case t.queue <- usedSecret{namespace: secret.Namespace, name: secret.Name, uid: secret.UID, day: today}:
	default:
		t.forget(secret.UID, today)
		t.log.Debug("too many last-used labels to write: one is left for a later use", "secret", secret.Namespace+"/"+secret.Name)
	}
}

// Run writes the labels until ctx ends.
func (t *LastUsedTracker) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-t.queue:
			t.write(ctx, u)
		}
	}
}

// write labels one Secret; its UID in the patch keeps a namesake created
// since from being labelled.
func (t *LastUsedTracker) write(ctx context.Context, u usedSecret) {
	patch, err := LastUsedPatch(u.uid, u.day)
	if err == nil {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = t.cfg.Patch(wctx, u.namespace, u.name, patch)
		cancel()
	}
	if err != nil {
		t.forget(u.uid, u.day)
		t.log.Error("failed to label legacy service account token with last-used date", "secret", u.namespace+"/"+u.name, "err", err)
	}
}

// forget lets a later use of the secret try the write again.
func (t *LastUsedTracker) forget(uid types.UID, day string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.day == day {
		delete(t.noted, uid)
	}
}

// LastUsedPatch is the merge patch that sets a Secret's last-used label to
// day, with the Secret's UID as upstream sends it.
func LastUsedPatch(uid types.UID, day string) ([]byte, error) {
	return json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{
		"uid": uid, "labels": map[string]string{LastUsedLabelKey: day},
	}})
}
