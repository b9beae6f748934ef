package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/minik8s/minik8s/pkg/leader"

	"github.com/minik8s/minik8s/pkg/server"
)

// ServerComponent is the scheduler inside `minik8s server`, unless
// --disable-scheduler.
func ServerComponent(env *server.Env) (server.Component, error) {
	if env.Config.DisableScheduler {
		return nil, nil
	}
	kcfg, err := LoadConfiguration(env.Config.SchedulerConfig)
	if err != nil {
		return nil, err
	}
	rc := *env.Loopback
	rc.UserAgent = "minik8s-scheduler"
	host, _ := os.Hostname()
	cfg := Config{Rest: &rc, LeaderElect: !env.Config.DisableLeaderElection, Identity: fmt.Sprintf("%s_%s", host, env.ServerURL),
		Metrics: env.Metrics, Logger: env.Logger.With("component", "scheduler")}
	if err := cfg.ApplyConfiguration(kcfg); err != nil {
		return nil, err
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return &component{s: s, cfg: cfg}, nil
}

// component runs the scheduler for as long as the server runs. Upstream's
// kube-scheduler exits when it loses its Lease and is restarted by whoever
// started it; inside the server, which would go down with it, the scheduler is
// made again from scratch (its queue and cache cannot be trusted once another
// scheduler may have bound pods) and stands by for the Lease.
type component struct {
	s   *Scheduler
	cfg Config
}

func (c *component) Name() string { return "scheduler" }

func (c *component) Run(ctx context.Context) error {
	s := c.s
	for {
		err := s.Run(ctx)
		if ctx.Err() != nil || !errors.Is(err, leader.ErrLost) {
			return err
		}
		c.cfg.Logger.Info("scheduler stopped: leader lease lost; standing by")
		if s, err = New(ctx, c.cfg); err != nil {
			return fmt.Errorf("make the scheduler again after losing its lease: %w", err)
		}
	}
}
