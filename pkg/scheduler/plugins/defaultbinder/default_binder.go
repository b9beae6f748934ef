// Package defaultbinder is the DefaultBinder plugin: it binds through the pod's
// binding subresource.
package defaultbinder

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.DefaultBinder

// DefaultBinder POSTs a Binding.
type DefaultBinder struct {
	handle fw.Handle
}

var _ fw.BindPlugin = &DefaultBinder{}

// New makes the plugin.
func New(_ context.Context, _ runtime.Object, h fw.Handle) (fw.Plugin, error) {
	return &DefaultBinder{handle: h}, nil
}

// Name implements fw.Plugin.
func (*DefaultBinder) Name() string { return Name }

// Bind implements fw.BindPlugin.
func (b *DefaultBinder) Bind(ctx context.Context, _ *fw.CycleState, pod *corev1.Pod, node string) *fw.Status {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := b.handle.ClientSet().CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fw.AsStatus(err)
	}
	return nil
}
