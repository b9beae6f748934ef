// Package taintnodesbycondition is upstream's TaintNodesByCondition admission
// plugin: a new Node starts with the not-ready NoSchedule taint, so no pod is
// scheduled onto it before the node lifecycle controller has seen it Ready and
// lifted the taint.
package taintnodesbycondition

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "TaintNodesByCondition"

var nodesGR = schema.GroupResource{Resource: "nodes"}

// Plugin is the TaintNodesByCondition plugin.
type Plugin struct{ admission.Handler }

var (
	_ admission.MutationInterface = &Plugin{}
	_ admission.ResourceSelector  = &Plugin{}
)

// New returns the plugin; it acts on creates only, as upstream's.
func New() *Plugin { return &Plugin{Handler: admission.NewHandler(admission.Create)} }

// HandlesResource: nodes, not their subresources.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource == nodesGR && t.Subresource == ""
}

// Admit adds the not-ready NoSchedule taint unless the node has it already.
func (p *Plugin) Admit(_ context.Context, a *admission.Attributes) error {
	node, ok := a.Object.(*corev1.Node)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("expected *core.Node but got %T", a.Object))
	}
	notReady := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	for i := range node.Spec.Taints {
		if node.Spec.Taints[i].MatchTaint(&notReady) {
			return nil
		}
	}
	node.Spec.Taints = append(node.Spec.Taints, notReady)
	return nil
}
