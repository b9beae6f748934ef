package config

import (
	"k8s.io/apimachinery/pkg/runtime"
	schedv1 "k8s.io/kube-scheduler/config/v1"

	"github.com/minik8s/minik8s/pkg/scheduler/profile"
)

// Profiles turns a defaulted, validated configuration into profile configurations.
func Profiles(cfg *schedv1.KubeSchedulerConfiguration) []profile.Config {
	var out []profile.Config
	for _, p := range cfg.Profiles {
		pc := profile.Config{SchedulerName: *p.SchedulerName, PercentageOfNodesToScore: p.PercentageOfNodesToScore,
			Points: map[string][]profile.PluginRef{}, Disabled: map[string][]string{}, Args: map[string]runtime.Object{}}
		ps := p.Plugins
		pc.MultiPoint = refs(ps.MultiPoint.Enabled)
		for name, set := range map[string]schedv1.PluginSet{
			profile.PointPreEnqueue: ps.PreEnqueue, profile.PointQueueSort: ps.QueueSort, profile.PointPreFilter: ps.PreFilter,
			profile.PointFilter: ps.Filter, profile.PointPostFilter: ps.PostFilter, profile.PointPreScore: ps.PreScore,
			profile.PointScore: ps.Score, profile.PointReserve: ps.Reserve, profile.PointPermit: ps.Permit,
			profile.PointPreBind: ps.PreBind, profile.PointBind: ps.Bind, profile.PointPostBind: ps.PostBind,
		} {
			if len(set.Enabled) > 0 {
				pc.Points[name] = refs(set.Enabled)
			}
			for _, d := range set.Disabled {
				pc.Disabled[name] = append(pc.Disabled[name], d.Name)
			}
		}
		for _, c := range p.PluginConfig {
			if c.Args.Object != nil {
				pc.Args[c.Name] = c.Args.Object
			}
		}
		out = append(out, pc)
	}
	return out
}

func refs(ps []schedv1.Plugin) []profile.PluginRef {
	out := make([]profile.PluginRef, 0, len(ps))
	for _, p := range ps {
		r := profile.PluginRef{Name: p.Name}
		if p.Weight != nil {
			r.Weight = *p.Weight
		}
		out = append(out, r)
	}
	return out
}
