// Package queuesort is the PrioritySort plugin: higher priority first, then the
// pod that waited longest.
package queuesort

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.PrioritySort

// PrioritySort orders the active queue.
type PrioritySort struct{}

var _ fw.QueueSortPlugin = &PrioritySort{}

// New makes the plugin.
func New(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) { return &PrioritySort{}, nil }

// Name implements fw.Plugin.
func (*PrioritySort) Name() string { return Name }

// Less implements fw.QueueSortPlugin.
func (*PrioritySort) Less(a, b *fw.QueuedPodInfo) bool {
	pa, pb := corev1helpers.PodPriority(a.Pod), corev1helpers.PodPriority(b.Pod)
	return pa > pb || (pa == pb && a.Timestamp.Before(b.Timestamp))
}
