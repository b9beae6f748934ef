package manager

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func electionConfig(identity string) Config {
	return Config{LeaderElect: true, Identity: identity, LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond}
}

func TestAServerThatLosesTheLeaseStopsItsControllersAndStandsByAgain(t *testing.T) {
	client := fake.NewClientset()
	var failRenewals atomic.Bool
	client.PrependReactor("update", "leases", func(clienttesting.Action) (bool, runtime.Object, error) {
		if failRenewals.Load() {
			return true, nil, errors.New("etcd is gone")
		}
		return false, nil, nil
	})
	var starts, running atomic.Int32
	work := func(ctx context.Context) error {
		starts.Add(1)
		running.Add(1)
		defer running.Add(-1)
		<-ctx.Done()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- campaign(ctx, client, electionConfig("a"), work, slog.New(slog.DiscardHandler)) }()
	waitFor(t, "the controllers start", func() bool { return running.Load() == 1 })
	failRenewals.Store(true)
	waitFor(t, "the controllers stop", func() bool { return running.Load() == 0 })
	// The Lease still names this server, whose renewals fail: once they
	// succeed again it leads again.
	failRenewals.Store(false)
	waitFor(t, "the controllers start again", func() bool { return starts.Load() == 2 && running.Load() == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if running.Load() != 0 {
		t.Error("controllers still run after the server stopped")
	}
}

func TestOnlyOneOfTwoServersRunsTheControllers(t *testing.T) {
	client := fake.NewClientset()
	var running atomic.Int32
	work := func(ctx context.Context) error {
		running.Add(1)
		defer running.Add(-1)
		<-ctx.Done()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, id := range []string{"a", "b"} {
		go func() { _ = campaign(ctx, client, electionConfig(id), work, slog.New(slog.DiscardHandler)) }()
	}
	waitFor(t, "one server leads", func() bool { return running.Load() == 1 })
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if running.Load() > 1 {
			t.Fatal("both servers run the controllers")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
