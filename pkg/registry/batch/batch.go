// Package batch describes the batch/v1 resources, Jobs and CronJobs, with
// upstream's defaults, generated selectors, validation, schedule parsing and
// printed columns.
package batch

import "github.com/minik8s/minik8s/pkg/registry"

// Resources returns every batch/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{Jobs(), CronJobs()}
}

func int32Ptr(v int32) *int32 { return &v }
func boolPtr(v bool) *bool    { return &v }
