package sim

import "github.com/minik8s/minik8s/pkg/apis"

// Marks that say a node is simulated and how it behaves. Selectable, so informers
// see only simulated nodes.
const (
	// LabelSimulated marks a simulated node; its value is "true".
	LabelSimulated = apis.LabelSimulatedNode
	// AnnotationFailed, when present on a simulated node, stops its heartbeat: the
	// lease and status are no longer renewed and its pods are left alone, as when a
	// kubelet dies. Its value is when the failure was asked for (RFC 3339).
	AnnotationFailed = "node.minik8s.io/simulated-failure"
	// AnnotationCompleteAfter on a pod whose restartPolicy is Never or OnFailure makes
	// it finish that long after it started (a Go duration such as "30s").
	AnnotationCompleteAfter = "sim.minik8s.io/complete-after"
	// AnnotationExitCode is the exit code of the containers of a pod that completes;
	// non-zero makes the pod Failed. Zero when absent.
	AnnotationExitCode = "sim.minik8s.io/exit-code"
)

// selector is the label selector of simulated nodes (and of their leases).
var selector = LabelSimulated + "=true"

// IsSimulated tells whether a node's labels mark it simulated.
func IsSimulated(labels map[string]string) bool { return labels[LabelSimulated] == "true" }
