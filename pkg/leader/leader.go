// Package leader runs work only while this process holds a
// coordination.k8s.io Lease, so that two servers can share one cluster with one
// of them standing by, as upstream's kube-controller-manager and kube-scheduler
// do. The election itself is client-go's; what this package adds is the order
// of shutdown: the work stops completely before the Lease is given up, so two
// holders never act at once.
package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrLost is what Run returns when the Lease was lost (not renewed in time, or
// taken) while the caller still wanted to lead.
var ErrLost = errors.New("leader lease lost")

// Config names the Lease and this candidate.
type Config struct {
	Client coordinationv1.LeasesGetter
	// Namespace and Name name the Lease (kube-system/kube-controller-manager).
	Namespace, Name string
	// Identity is this candidate's holderIdentity; it must differ between candidates.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are upstream's
	// --leader-elect-* durations; zero means upstream's 15s, 10s and 2s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Recorder, if set, gets upstream's LeaderElection events on the Lease
	// ("<identity> became leader", "<identity> stopped leading").
	Recorder events.EventRecorder
	Log      *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("leader election: a client is required")
	case c.Namespace == "" || c.Name == "":
		return errors.New("leader election: the Lease's namespace and name are required")
	case c.Identity == "":
		return errors.New("leader election: an identity is required")
	case c.LeaseDuration < 0 || c.RenewDeadline < 0 || c.RetryPeriod < 0:
		return errors.New("leader election: durations must not be negative")
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = 10 * time.Second
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = 2 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Run campaigns for the Lease until ctx ends and, once elected, runs work with
// a context that ends when ctx does or the Lease is lost. Only after work has
// returned is the Lease released (or, if lost, given up on). Run returns nil
// when ctx ended, ErrLost when the Lease was lost, and work's own error when
// work ended by itself.
func Run(ctx context.Context, cfg Config, work func(context.Context) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.setDefaults()
	lockCfg := resourcelock.ResourceLockConfig{Identity: cfg.Identity}
	if cfg.Recorder != nil {
		lockCfg.EventRecorder = leaseEvents{cfg.Recorder}
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
		Client:     cfg.Client,
		LockConfig: lockCfg,
	}
	// The elector's context outlives ctx while work is stopping, so the
	// Lease is released only once nothing guarded by it runs.
	electorCtx, stopElector := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElector()
	var elected atomic.Bool
	leading := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
		ReleaseOnCancel: true, Name: cfg.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaseCtx context.Context) {
				elected.Store(true)
				leading <- leaseCtx
			},
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election for %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	// While campaigning, the end of ctx ends the campaign at once; once
	// elected, it ends the work first (below).
	stopCampaign := context.AfterFunc(ctx, func() {
		if !elected.Load() {
			stopElector()
		}
	})
	defer stopCampaign()
	electorDone := make(chan struct{})
	go func() {
		defer close(electorDone)
		le.Run(electorCtx)
	}()
	cfg.Log.Info("waiting to become leader", "lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity)
	var leaseCtx context.Context
	select {
	case leaseCtx = <-leading:
	case <-electorDone:
		select {
		case leaseCtx = <-leading:
		default:
			return nil
		}
	}
	cfg.Log.Info("became leader", "lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity)
	workCtx, stopWork := context.WithCancel(leaseCtx)
	stopOnEnd := context.AfterFunc(ctx, stopWork)
	werr := work(workCtx)
	stopOnEnd()
	stopWork()
	lost := leaseCtx.Err() != nil && ctx.Err() == nil
	stopElector()
	<-electorDone
	switch {
	case ctx.Err() != nil:
		return nil
	case lost:
		cfg.Log.Info("leader lease lost", "lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity)
		return ErrLost
	default:
		return werr
	}
}

// leaseEvents turns the lock's events into events.k8s.io ones.
type leaseEvents struct{ r events.EventRecorder }

func (e leaseEvents) Eventf(obj runtime.Object, eventType, reason, message string, args ...interface{}) {
	e.r.Eventf(obj, nil, eventType, reason, reason, message, args...)
}
