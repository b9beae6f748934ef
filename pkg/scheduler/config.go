package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
)

// Config is what a scheduler is made from.
type Config struct {
	// Rest reaches the API server.
	Rest *rest.Config
	// Profiles are the scheduler names served, each with its plugins.
	Profiles []profile.Config
	// PercentageOfNodesToScore is the share of nodes looked at per pod once enough
	// feasible ones are found (0: adaptive, as upstream).
	PercentageOfNodesToScore int32
	// PodInitialBackoff doubles per failed attempt up to PodMaxBackoff.
	PodInitialBackoff, PodMaxBackoff time.Duration
	// Parallelism is the number of goroutines filtering and scoring nodes.
	Parallelism int
	// Registry maps plugin names to factories.
	Registry map[string]fw.Factory
	// LeaderElect makes the scheduler work only while it holds the Lease
	// kube-system/kube-scheduler; Identity names this instance in it.
	LeaderElect bool
	Identity    string
	// LeaseNamespace and LeaseName name the Lease (default kube-system/kube-scheduler);
	// a second scheduler with profiles of its own takes a Lease of its own.
	LeaseNamespace, LeaseName string
	// Metrics, if set, receives the scheduler's metrics.
	Metrics prometheus.Registerer
	// ConfigYAML is the effective configuration, published for `minik8s why`.
	ConfigYAML []byte
	Logger     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Rest == nil {
		return errors.New("scheduler: no API server configuration")
	}
	if len(c.Profiles) == 0 {
		return errors.New("scheduler: at least one profile is required")
	}
	seen := map[string]bool{}
	for _, p := range c.Profiles {
		if seen[p.SchedulerName] {
			return fmt.Errorf("scheduler: duplicate profile %q", p.SchedulerName)
		}
		seen[p.SchedulerName] = true
	}
	if c.Registry == nil {
		return errors.New("scheduler: no plugin registry")
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.PodInitialBackoff == 0 {
		c.PodInitialBackoff = time.Second
	}
	if c.PodMaxBackoff == 0 {
		c.PodMaxBackoff = 10 * time.Second
	}
	if c.Parallelism <= 0 {
		c.Parallelism = 16
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = "kube-system"
	}
	if c.LeaseName == "" {
		c.LeaseName = "kube-scheduler"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
