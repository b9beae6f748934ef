package scheduler

import (
	"context"
	"fmt"
	"os"

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
	return component{s}, nil
}

type component struct{ s *Scheduler }

func (c component) Name() string                  { return "scheduler" }
func (c component) Run(ctx context.Context) error { return c.s.Run(ctx) }
