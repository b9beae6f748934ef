package config

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	schedv1 "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/defaultpreemption"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// argsValidators check plugin arguments in the configuration, with upstream's
// field paths (profiles[i].pluginConfig[j].args...).
var argsValidators = map[string]func(*field.Path, runtime.Object) field.ErrorList{
	names.DefaultPreemption: defaultpreemption.ValidateConfig,
}

// removedPlugins are plugin names upstream's v1 configuration refuses.
var removedPlugins = map[string]bool{"AzureDiskLimits": true, "CinderLimits": true, "EBSLimits": true, "GCEPDLimits": true}

// Validate checks a defaulted configuration as upstream's kube-scheduler does, and
// that every plugin named exists in registry. Errors name the field.
func Validate(cfg *schedv1.KubeSchedulerConfiguration, registry map[string]fw.Factory) error {
	var errs field.ErrorList
	if cfg.Parallelism != nil && *cfg.Parallelism <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("parallelism"), *cfg.Parallelism, "should be an integer value greater than zero"))
	}
	errs = append(errs, validatePercentage(field.NewPath("percentageOfNodesToScore"), cfg.PercentageOfNodesToScore)...)
	if cfg.PodInitialBackoffSeconds != nil && *cfg.PodInitialBackoffSeconds <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("podInitialBackoffSeconds"), *cfg.PodInitialBackoffSeconds, "must be greater than 0"))
	}
	if cfg.PodMaxBackoffSeconds != nil && cfg.PodInitialBackoffSeconds != nil && *cfg.PodMaxBackoffSeconds < *cfg.PodInitialBackoffSeconds {
		errs = append(errs, field.Invalid(field.NewPath("podMaxBackoffSeconds"), *cfg.PodMaxBackoffSeconds, "must be greater than or equal to PodInitialBackoffSeconds"))
	}
	if len(cfg.Extenders) > 0 {
		errs = append(errs, field.Forbidden(field.NewPath("extenders"), "scheduler extenders are not supported by minik8s; write a plugin instead (docs/scheduler.md)"))
	}
	profiles := field.NewPath("profiles")
	if len(cfg.Profiles) == 0 {
		errs = append(errs, field.Required(profiles, ""))
	}
	seen := map[string]int{}
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		path := profiles.Index(i)
		name := ""
		if p.SchedulerName != nil {
			name = *p.SchedulerName
		}
		if name == "" {
			errs = append(errs, field.Required(path.Child("schedulerName"), ""))
		} else if j, ok := seen[name]; ok {
			errs = append(errs, field.Duplicate(path.Child("schedulerName"), profiles.Index(j).Child("schedulerName")))
		} else {
			seen[name] = i
		}
		errs = append(errs, validatePercentage(path.Child("percentageOfNodesToScore"), p.PercentageOfNodesToScore)...)
		errs = append(errs, validatePlugins(path.Child("plugins"), p.Plugins, registry)...)
		pcSeen := map[string]bool{}
		for j, pc := range p.PluginConfig {
			pcPath := path.Child("pluginConfig").Index(j)
			if pcSeen[pc.Name] {
				errs = append(errs, field.Duplicate(pcPath, pc.Name))
			}
			pcSeen[pc.Name] = true
			if removedPlugins[pc.Name] {
				errs = append(errs, field.Invalid(pcPath, pc.Name, fmt.Sprintf("was invalid in version %q (KubeSchedulerConfiguration is version %q)", "kubescheduler.config.k8s.io/v1", "kubescheduler.config.k8s.io/v1")))
			} else if validate, ok := argsValidators[pc.Name]; ok && pc.Args.Object != nil {
				errs = append(errs, validate(pcPath.Child("args"), pc.Args.Object)...)
			}
		}
		if i > 0 && !equality.Semantic.DeepEqual(cfg.Profiles[0].Plugins.QueueSort, p.Plugins.QueueSort) {
			errs = append(errs, field.Invalid(path.Child("plugins", "queueSort"), p.Plugins.QueueSort, "must be the same for all profiles"))
		}
	}
	return utilerrors.Flatten(errs.ToAggregate())
}

func validatePercentage(path *field.Path, v *int32) field.ErrorList {
	if v != nil && (*v < 0 || *v > 100) {
		return field.ErrorList{field.Invalid(path, *v, "not in valid range [0-100]")}
	}
	return nil
}

func validatePlugins(path *field.Path, ps *schedv1.Plugins, registry map[string]fw.Factory) field.ErrorList {
	if ps == nil {
		return nil
	}
	var errs field.ErrorList
	var total int64
	for _, pt := range []struct {
		name string
		set  schedv1.PluginSet
	}{
		{"preEnqueue", ps.PreEnqueue}, {"queueSort", ps.QueueSort}, {"preFilter", ps.PreFilter}, {"filter", ps.Filter},
		{"postFilter", ps.PostFilter}, {"preScore", ps.PreScore}, {"score", ps.Score}, {"reserve", ps.Reserve},
		{"permit", ps.Permit}, {"preBind", ps.PreBind}, {"bind", ps.Bind}, {"postBind", ps.PostBind}, {"multiPoint", ps.MultiPoint},
	} {
		for i, pl := range pt.set.Enabled {
			p := path.Child(pt.name, "enabled").Index(i)
			if removedPlugins[pl.Name] {
				errs = append(errs, field.Invalid(p, pl.Name, fmt.Sprintf("was invalid in version %q (KubeSchedulerConfiguration is version %q)", "kubescheduler.config.k8s.io/v1", "kubescheduler.config.k8s.io/v1")))
				continue
			}
			if _, ok := registry[pl.Name]; !ok {
				errs = append(errs, field.NotFound(p.Child("name"), pl.Name))
			}
			if pl.Weight != nil {
				if *pl.Weight < 0 {
					errs = append(errs, field.Invalid(p.Child("weight"), *pl.Weight, "must be greater than or equal to 0"))
				}
				if pt.name == "score" || pt.name == "multiPoint" {
					total += int64(*pl.Weight) * fw.MaxNodeScore
				}
			}
		}
	}
	if total < 0 || total > fw.MaxTotalScore/2 {
		errs = append(errs, field.Invalid(path.Child("score"), total, "total score of Score plugins could overflow"))
	}
	return errs
}
