// Package plugins lists every scheduler plugin this binary knows: the registry a
// profile's plugin names are looked up in. A custom plugin is one more line here.
package plugins

import (
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/defaultbinder"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/defaultpreemption"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/imagelocality"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeaffinity"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodename"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeports"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/noderesources"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeunschedulable"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/pending"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/queuesort"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/roundrobin"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/schedulinggates"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/tainttoleration"
)

// Registry returns the plugin factories by name.
func Registry() map[string]fw.Factory {
	return map[string]fw.Factory{
		names.PrioritySort:                    queuesort.New,
		names.SchedulingGates:                 schedulinggates.New,
		names.NodeUnschedulable:               nodeunschedulable.New,
		names.NodeName:                        nodename.New,
		names.TaintToleration:                 tainttoleration.New,
		names.NodeAffinity:                    nodeaffinity.New,
		names.NodePorts:                       nodeports.New,
		names.NodeResourcesFit:                noderesources.NewFit,
		names.NodeResourcesBalancedAllocation: noderesources.NewBalancedAllocation,
		names.ImageLocality:                   imagelocality.New,
		names.DefaultBinder:                   defaultbinder.New,
		names.RoundRobin:                      roundrobin.New,
		names.VolumeRestrictions:              pending.Factory(names.VolumeRestrictions),
		names.NodeVolumeLimits:                pending.Factory(names.NodeVolumeLimits),
		names.VolumeBinding:                   pending.Factory(names.VolumeBinding),
		names.VolumeZone:                      pending.Factory(names.VolumeZone),
		names.PodTopologySpread:               pending.Factory(names.PodTopologySpread),
		names.InterPodAffinity:                pending.Factory(names.InterPodAffinity),
		names.DefaultPreemption:               defaultpreemption.New,
	}
}
