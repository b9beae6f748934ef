package profile

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// PluginRef is a plugin enabled at an extension point, with its score weight.
type PluginRef struct {
	Name   string
	Weight int32
}

// Config is one profile after defaulting and MultiPoint expansion... or before:
// Points lists, per extension point, the plugins enabled explicitly; MultiPoint the
// plugins enabled at every point they implement.
type Config struct {
	SchedulerName            string
	PercentageOfNodesToScore *int32
	MultiPoint               []PluginRef
	// Points maps an extension point name ("filter", "score", ...) to its
	// explicitly enabled plugins; Disabled to names disabled there ("*" for all).
	Points   map[string][]PluginRef
	Disabled map[string][]string
	// Args are plugin arguments by plugin name (nil: the plugin's defaults).
	Args map[string]runtime.Object
}

// Extension point names, as in KubeSchedulerConfiguration.
const (
	PointPreEnqueue = "preEnqueue"
	PointQueueSort  = "queueSort"
	PointPreFilter  = "preFilter"
	PointFilter     = "filter"
	PointPostFilter = "postFilter"
	PointPreScore   = "preScore"
	PointScore      = "score"
	PointReserve    = "reserve"
	PointPermit     = "permit"
	PointPreBind    = "preBind"
	PointBind       = "bind"
	PointPostBind   = "postBind"
)

// Points is every extension point in the order a pod passes them.
var Points = []string{PointPreEnqueue, PointQueueSort, PointPreFilter, PointFilter, PointPostFilter, PointPreScore,
	PointScore, PointReserve, PointPermit, PointPreBind, PointBind, PointPostBind}
