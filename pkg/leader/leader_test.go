package leader

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// fast keeps the tests short: the Lease counts whole seconds, and client-go
// needs LeaseDuration > RenewDeadline > 1.2 * RetryPeriod.
func fast(client *fake.Clientset, identity string) Config {
	return Config{Client: client.CoordinationV1(), Namespace: "kube-system", Name: "kube-controller-manager",
		Identity: identity, LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond}
}

// candidate runs Run in the background and reports when its work runs.
type candidate struct {
	running, stopped atomic.Bool
	cancel           context.CancelFunc
	done             chan error
}

func start(cfg Config) *candidate {
	c := &candidate{done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		c.done <- Run(ctx, cfg, func(ctx context.Context) error {
			c.running.Store(true)
			<-ctx.Done()
			// A controller taking a moment to stop: the Lease must still be held.
			time.Sleep(50 * time.Millisecond)
			c.running.Store(false)
			c.stopped.Store(true)
			return nil
		})
	}()
	return c
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOnlyTheHolderWorksAndTheStandbyTakesOverOnceTheHolderStops(t *testing.T) {
	client := fake.NewClientset()
	a := start(fast(client, "a"))
	eventually(t, "a leads", a.running.Load)
	b := start(fast(client, "b"))
	time.Sleep(time.Second)
	if b.running.Load() {
		t.Fatal("the standby works while the holder renews its Lease")
	}
	lease, err := client.CoordinationV1().Leases("kube-system").Get(context.Background(), "kube-controller-manager", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "a" || lease.Spec.RenewTime == nil {
		t.Fatalf("lease spec = %+v", lease.Spec)
	}
	a.cancel()
	if err := <-a.done; err != nil {
		t.Fatalf("Run after cancel = %v", err)
	}
	if !a.stopped.Load() {
		t.Fatal("Run returned before the work stopped")
	}
	// Released, not left to expire: b takes over well within a lease duration.
	eventually(t, "b leads", b.running.Load)
	b.cancel()
	<-b.done
}

func TestLosingTheLeaseStopsTheWorkAndReportsErrLost(t *testing.T) {
	client := fake.NewClientset()
	var failRenewals atomic.Bool
	client.PrependReactor("update", "leases", func(clienttesting.Action) (bool, runtime.Object, error) {
		if failRenewals.Load() {
			return true, nil, errors.New("etcd is gone")
		}
		return false, nil, nil
	})
	a := start(fast(client, "a"))
	eventually(t, "a leads", a.running.Load)
	failRenewals.Store(true)
	select {
	case err := <-a.done:
		if !errors.Is(err, ErrLost) {
			t.Fatalf("Run = %v, want ErrLost", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after renewals failed")
	}
	if a.running.Load() || !a.stopped.Load() {
		t.Fatal("the work still runs after the Lease was lost")
	}
	a.cancel()
}

func TestCancellingWhileStandingByNeverRunsTheWork(t *testing.T) {
	client := fake.NewClientset()
	holder := start(fast(client, "holder"))
	eventually(t, "the holder leads", holder.running.Load)
	standby := start(fast(client, "standby"))
	time.Sleep(200 * time.Millisecond)
	standby.cancel()
	select {
	case err := <-standby.done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the standby did not stop")
	}
	if standby.stopped.Load() {
		t.Error("the standby's work ran")
	}
	holder.cancel()
	<-holder.done
}

func TestWorkThatFailsEndsRunWithItsError(t *testing.T) {
	client := fake.NewClientset()
	err := Run(context.Background(), fast(client, "a"), func(context.Context) error { return errors.New("cannot work") })
	if err == nil || err.Error() != "cannot work" {
		t.Fatalf("Run = %v", err)
	}
}

func TestConfigWithoutIdentityIsRefused(t *testing.T) {
	cfg := fast(fake.NewClientset(), "")
	if err := Run(context.Background(), cfg, func(context.Context) error { return nil }); err == nil {
		t.Fatal("no error for a missing identity")
	}
}
