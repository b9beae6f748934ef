package config

import (
	"k8s.io/apimachinery/pkg/runtime"
	schedv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// DefaultSchedulerName is the profile pods get unless they name another.
const DefaultSchedulerName = "default-scheduler"

// The example profiles every minik8s scheduler serves besides the default (see
// docs/scheduler.md): pods pick one with spec.schedulerName.
const (
	BinPackingSchedulerName = "bin-packing"
	RoundRobinSchedulerName = "round-robin"
)

// defaultPlugins is upstream's default MultiPoint set, in upstream's order, minus
// the in-tree cloud volume limits (EBS, GCE PD, Azure Disk) that upstream keeps as
// no-ops, and DynamicResources (no resource claims here).
func defaultPlugins() *schedv1.Plugins {
	return &schedv1.Plugins{MultiPoint: schedv1.PluginSet{Enabled: []schedv1.Plugin{
		{Name: names.SchedulingGates},
		{Name: names.PrioritySort},
		{Name: names.NodeUnschedulable},
		{Name: names.NodeName},
		{Name: names.TaintToleration, Weight: ptr.To[int32](3)},
		{Name: names.NodeAffinity, Weight: ptr.To[int32](2)},
		{Name: names.NodePorts},
		{Name: names.NodeResourcesFit, Weight: ptr.To[int32](1)},
		{Name: names.VolumeRestrictions},
		{Name: names.NodeVolumeLimits},
		{Name: names.VolumeBinding},
		{Name: names.VolumeZone},
		{Name: names.PodTopologySpread, Weight: ptr.To[int32](2)},
		{Name: names.InterPodAffinity, Weight: ptr.To[int32](2)},
		{Name: names.DefaultPreemption},
		{Name: names.NodeResourcesBalancedAllocation, Weight: ptr.To[int32](1)},
		{Name: names.ImageLocality, Weight: ptr.To[int32](1)},
		{Name: names.DefaultBinder},
	}}}
}

// Default is the configuration a minik8s scheduler runs without --scheduler-config:
// upstream's default profile plus the two example profiles.
func Default() *schedv1.KubeSchedulerConfiguration {
	cfg := &schedv1.KubeSchedulerConfiguration{Profiles: []schedv1.KubeSchedulerProfile{
		{SchedulerName: ptr.To(DefaultSchedulerName)},
		BinPackingProfile(),
		RoundRobinProfile(),
	}}
	SetDefaults(cfg)
	return cfg
}

// BinPackingProfile fills nodes before using new ones: NodeResourcesFit scores
// MostAllocated, and balanced allocation is off so it does not pull the other way.
func BinPackingProfile() schedv1.KubeSchedulerProfile {
	return schedv1.KubeSchedulerProfile{
		SchedulerName: ptr.To(BinPackingSchedulerName),
		Plugins: &schedv1.Plugins{Score: schedv1.PluginSet{
			Disabled: []schedv1.Plugin{{Name: names.NodeResourcesBalancedAllocation}},
		}},
		PluginConfig: []schedv1.PluginConfig{{Name: names.NodeResourcesFit, Args: runtime.RawExtension{Object: &schedv1.NodeResourcesFitArgs{
			ScoringStrategy: &schedv1.ScoringStrategy{Type: schedv1.MostAllocated, Resources: []schedv1.ResourceSpec{
				{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}}},
		}}}},
	}
}

// RoundRobinProfile places pods on feasible nodes in turn, ignoring every score:
// the RoundRobin plugin is the only score plugin.
func RoundRobinProfile() schedv1.KubeSchedulerProfile {
	return schedv1.KubeSchedulerProfile{
		SchedulerName: ptr.To(RoundRobinSchedulerName),
		Plugins: &schedv1.Plugins{
			Score:      schedv1.PluginSet{Disabled: []schedv1.Plugin{{Name: "*"}}, Enabled: []schedv1.Plugin{{Name: names.RoundRobin}}},
			PreScore:   schedv1.PluginSet{Disabled: []schedv1.Plugin{{Name: "*"}}, Enabled: []schedv1.Plugin{{Name: names.RoundRobin}}},
			Reserve:    schedv1.PluginSet{Enabled: []schedv1.Plugin{{Name: names.RoundRobin}}},
			MultiPoint: schedv1.PluginSet{},
		},
		// Every node is a candidate: round-robin must see them all to take turns.
		PercentageOfNodesToScore: ptr.To[int32](100),
	}
}

// SetDefaults fills in what upstream's defaulting does: parallelism 16, back-off
// 1 s to 10 s, one default-scheduler profile if none, the default plugins merged
// with each profile's changes.
func SetDefaults(cfg *schedv1.KubeSchedulerConfiguration) {
	if cfg.Parallelism == nil {
		cfg.Parallelism = ptr.To[int32](16)
	}
	if cfg.PodInitialBackoffSeconds == nil {
		cfg.PodInitialBackoffSeconds = ptr.To[int64](1)
	}
	if cfg.PodMaxBackoffSeconds == nil {
		cfg.PodMaxBackoffSeconds = ptr.To[int64](10)
	}
	if cfg.PercentageOfNodesToScore == nil {
		cfg.PercentageOfNodesToScore = ptr.To[int32](0)
	}
	if len(cfg.Profiles) == 0 {
		cfg.Profiles = []schedv1.KubeSchedulerProfile{{}}
	}
	if len(cfg.Profiles) == 1 && cfg.Profiles[0].SchedulerName == nil {
		cfg.Profiles[0].SchedulerName = ptr.To(DefaultSchedulerName)
	}
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		p.Plugins = mergePlugins(defaultPlugins(), p.Plugins)
	}
}

// mergePlugins applies a profile's changes to the default set, per extension point.
func mergePlugins(def, custom *schedv1.Plugins) *schedv1.Plugins {
	if custom == nil {
		return def
	}
	def.MultiPoint = mergeSet(def.MultiPoint, custom.MultiPoint)
	def.PreEnqueue = mergeSet(def.PreEnqueue, custom.PreEnqueue)
	def.QueueSort = mergeSet(def.QueueSort, custom.QueueSort)
	def.PreFilter = mergeSet(def.PreFilter, custom.PreFilter)
	def.Filter = mergeSet(def.Filter, custom.Filter)
	def.PostFilter = mergeSet(def.PostFilter, custom.PostFilter)
	def.PreScore = mergeSet(def.PreScore, custom.PreScore)
	def.Score = mergeSet(def.Score, custom.Score)
	def.Reserve = mergeSet(def.Reserve, custom.Reserve)
	def.Permit = mergeSet(def.Permit, custom.Permit)
	def.PreBind = mergeSet(def.PreBind, custom.PreBind)
	def.Bind = mergeSet(def.Bind, custom.Bind)
	def.PostBind = mergeSet(def.PostBind, custom.PostBind)
	return def
}

// mergeSet: defaults not disabled keep their place (replaced in place where the
// custom set names them again), then the custom plugins that replaced none.
func mergeSet(def, custom schedv1.PluginSet) schedv1.PluginSet {
	disabled := map[string]bool{}
	var outDisabled []schedv1.Plugin
	for _, p := range custom.Disabled {
		disabled[p.Name] = true
		outDisabled = append(outDisabled, schedv1.Plugin{Name: p.Name})
	}
	for _, p := range def.Disabled {
		disabled[p.Name] = true
		outDisabled = append(outDisabled, schedv1.Plugin{Name: p.Name})
	}
	customIdx := map[string]int{}
	for i, p := range custom.Enabled {
		customIdx[p.Name] = i
	}
	replaced := map[int]bool{}
	var enabled []schedv1.Plugin
	if !disabled["*"] {
		for _, p := range def.Enabled {
			if disabled[p.Name] {
				continue
			}
			if i, ok := customIdx[p.Name]; ok {
				p = custom.Enabled[i]
				replaced[i] = true
			}
			enabled = append(enabled, p)
		}
	}
	for i, p := range custom.Enabled {
		if !replaced[i] {
			enabled = append(enabled, p)
		}
	}
	return schedv1.PluginSet{Enabled: enabled, Disabled: outDisabled}
}
