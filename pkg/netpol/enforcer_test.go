package netpol

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// recorder is a backend that keeps the scripts it was given.
type recorder struct {
	mu      sync.Mutex
	scripts []string
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Apply(tx *nft.Tx) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scripts = append(r.scripts, tx.Script())
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.scripts)
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.scripts, "\n")
}

func startEnforcer(t *testing.T, api *fake.Clientset) (*Enforcer, *recorder) {
	t.Helper()
	rec := &recorder{}
	e, err := New(Config{Client: api, NodeName: "node-a", Backend: rec, Check: func() error { return nil },
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return e, rec
}

func TestPodStartingReturnsOnceTheRulesKnowThePod(t *testing.T) {
	pod := testPod("default", "new", "node-a", "10.244.0.50", map[string]string{"app": "b"})
	pod.UID = "uid-new"
	inAPI := pod.DeepCopy()
	inAPI.Status = corev1.PodStatus{Phase: corev1.PodPending}
	api := fake.NewClientset(inAPI, netpol("default", "deny", sel(), ingressOnly, nil, nil))
	e, rec := startEnforcer(t, api)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.PodStarting(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if got := rec.all(); !strings.Contains(got, "10.244.0.50 comment \"default/new\" : goto ingress-0") {
		t.Fatalf("the rules applied before PodStarting returned do not isolate the pod:\n%s", got)
	}
	// The same addresses again (a container restart) need no new rules.
	n := rec.count()
	if err := e.PodStarting(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if rec.count() != n {
		t.Errorf("a restart in a known sandbox applied rules again")
	}
}

func TestPodStartingGivesUpWithItsContext(t *testing.T) {
	api := fake.NewClientset()
	e, err := New(Config{Client: api, NodeName: "node-a", Backend: &recorder{}, Check: func() error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	// Never run: the rules never come.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	pod := testPod("default", "p", "node-a", "10.244.0.9", nil)
	if err := e.PodStarting(ctx, pod); err == nil || !strings.Contains(err.Error(), "default/p") {
		t.Errorf("PodStarting = %v, want a timeout naming the pod", err)
	}
}

func TestConfigValidateRefusesWhatCannotWork(t *testing.T) {
	api := fake.NewClientset()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"a config without a client is refused", Config{NodeName: "n"}},
		{"a config without a node name is refused", Config{Client: api}},
		{"a table name with a space is refused", Config{Client: api, NodeName: "n", Table: "a b"}},
		{"a negative retry period is refused", Config{Client: api, NodeName: "n", RetryPeriod: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err == nil {
				t.Error("Validate() = nil")
			}
		})
	}
}
