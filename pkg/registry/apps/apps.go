// Package apps describes the apps/v1 resources: Deployments, ReplicaSets,
// StatefulSets, DaemonSets and ControllerRevisions, with upstream's defaults,
// validation, scale subresources and printed columns.
package apps

import "github.com/minik8s/minik8s/pkg/registry"

// Resources returns every apps/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		Deployments(),
		ReplicaSets(),
		StatefulSets(),
		DaemonSets(),
		ControllerRevisions(),
	}
}

func int32Ptr(v int32) *int32 { return &v }
