// Package plugins lists every scheduler plugin this binary knows: the registry a
// profile's plugin names are looked up in. A custom plugin is one more line here.
package plugins

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	"github.com/minik8s/minik8s/pkg/scheduler/config"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/defaultbinder"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/defaultpreemption"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/imagelocality"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/interpodaffinity"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeaffinity"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodename"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeports"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/noderesources"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodeunschedulable"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/nodevolumelimits"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/podtopologyspread"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/queuesort"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/roundrobin"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/schedulinggates"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/tainttoleration"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/volumebinding"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/volumerestrictions"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/volumezone"
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
		names.VolumeRestrictions:              volumerestrictions.New,
		names.NodeVolumeLimits:                nodevolumelimits.New,
		names.VolumeBinding:                   volumebinding.New,
		names.VolumeZone:                      volumezone.New,
		names.PodTopologySpread:               podtopologyspread.New,
		names.InterPodAffinity:                interpodaffinity.New,
		names.DefaultPreemption:               defaultpreemption.New,
	}
}

// ArgsValidators check pluginConfig arguments before anything starts, so a bad
// configuration stops start-up with the field named.
func ArgsValidators() map[string]config.ArgsValidator {
	return map[string]config.ArgsValidator{
		names.NodeResourcesFit: func(path *field.Path, a runtime.Object) error {
			fa, ok := a.(*schedconfig.NodeResourcesFitArgs)
			if !ok {
				return fmt.Errorf("%s: want args of type NodeResourcesFitArgs, got %T", path, a)
			}
			return prefixed(path, noderesources.ValidateFitArgs(fa))
		},
		names.NodeResourcesBalancedAllocation: func(path *field.Path, a runtime.Object) error {
			_, err := noderesources.NewBalancedAllocation(context.Background(), a, nil)
			return prefixed(path, err)
		},
		names.NodeAffinity: func(path *field.Path, a runtime.Object) error {
			_, err := nodeaffinity.New(context.Background(), a, nil)
			return prefixed(path, err)
		},
		names.InterPodAffinity: func(path *field.Path, a runtime.Object) error {
			ia, ok := a.(*schedconfig.InterPodAffinityArgs)
			if !ok {
				return fmt.Errorf("%s: want args of type InterPodAffinityArgs, got %T", path, a)
			}
			return interpodaffinity.ValidateArgs(path, ia)
		},
		names.DefaultPreemption: func(path *field.Path, a runtime.Object) error {
			return defaultpreemption.ValidateConfig(path, a).ToAggregate()
		},
		names.VolumeBinding: func(path *field.Path, a runtime.Object) error {
			va, ok := a.(*schedconfig.VolumeBindingArgs)
			if !ok {
				return fmt.Errorf("%s: want args of type VolumeBindingArgs, got %T", path, a)
			}
			return prefixed(path, volumebinding.ValidateArgs(va))
		},
		names.PodTopologySpread: func(path *field.Path, a runtime.Object) error {
			pa, ok := a.(*schedconfig.PodTopologySpreadArgs)
			if !ok {
				return fmt.Errorf("%s: want args of type PodTopologySpreadArgs, got %T", path, a)
			}
			return podtopologyspread.ValidateArgs(path, pa)
		},
	}
}

// prefixed puts the args' path before an error that names fields relative to them.
func prefixed(path *field.Path, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s.%w", path, err)
}
