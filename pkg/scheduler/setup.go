package scheduler

import (
	"fmt"
	"os"
	"time"

	schedv1 "k8s.io/kube-scheduler/config/v1"

	"github.com/minik8s/minik8s/pkg/scheduler/config"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins"
)

// LoadConfiguration reads a KubeSchedulerConfiguration file ("" for the default
// configuration), applies upstream's defaults and validates it against the plugin
// registry.
func LoadConfiguration(path string) (*schedv1.KubeSchedulerConfiguration, error) {
	var kcfg *schedv1.KubeSchedulerConfiguration
	if path == "" {
		kcfg = config.Default()
	} else {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read scheduler configuration: %w", err)
		}
		if kcfg, err = config.Load(data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		config.SetDefaults(kcfg)
	}
	if err := config.Validate(kcfg, plugins.Registry(), plugins.ArgsValidators()); err != nil {
		return nil, fmt.Errorf("invalid scheduler configuration %s: %w", path, err)
	}
	return kcfg, nil
}

// ApplyConfiguration fills a Config from a loaded configuration.
func (c *Config) ApplyConfiguration(kcfg *schedv1.KubeSchedulerConfiguration) error {
	c.Profiles = config.Profiles(kcfg)
	c.Registry = plugins.Registry()
	if kcfg.PercentageOfNodesToScore != nil {
		c.PercentageOfNodesToScore = *kcfg.PercentageOfNodesToScore
	}
	if kcfg.Parallelism != nil {
		c.Parallelism = int(*kcfg.Parallelism)
	}
	if kcfg.PodInitialBackoffSeconds != nil {
		c.PodInitialBackoff = time.Duration(*kcfg.PodInitialBackoffSeconds) * time.Second
	}
	if kcfg.PodMaxBackoffSeconds != nil {
		c.PodMaxBackoff = time.Duration(*kcfg.PodMaxBackoffSeconds) * time.Second
	}
	le := kcfg.LeaderElection
	if le.ResourceName != "" {
		c.LeaseName = le.ResourceName
	}
	if le.ResourceNamespace != "" {
		c.LeaseNamespace = le.ResourceNamespace
	}
	if le.LeaderElect != nil && !*le.LeaderElect {
		c.LeaderElect = false
	}
	y, err := config.Marshal(kcfg)
	if err != nil {
		return fmt.Errorf("encode scheduler configuration: %w", err)
	}
	c.ConfigYAML = y
	return nil
}
