// Package defaulttolerationseconds is upstream's DefaultTolerationSeconds
// admission plugin: a pod that does not say how long it tolerates its node
// being not ready or unreachable tolerates it for five minutes, then is
// evicted.
package defaulttolerationseconds

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "DefaultTolerationSeconds"

// DefaultSeconds is upstream's default for both tolerations.
const DefaultSeconds = 300

var podsGR = schema.GroupResource{Resource: "pods"}

// Plugin is the DefaultTolerationSeconds plugin.
type Plugin struct {
	admission.Handler
	notReady, unreachable corev1.Toleration
}

var (
	_ admission.MutationInterface = &Plugin{}
	_ admission.ResourceSelector  = &Plugin{}
)

// New returns the plugin adding tolerations of the given seconds
// (upstream's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds).
func New(notReadySeconds, unreachableSeconds int64) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update),
		notReady: corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &notReadySeconds},
		unreachable: corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &unreachableSeconds},
	}
}

// HandlesResource: pods, not their subresources.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource == podsGR && t.Subresource == ""
}

// Admit adds the tolerations the pod lacks.
func (p *Plugin) Admit(_ context.Context, a *admission.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("expected *api.Pod but got %T", a.Object))
	}
	notReady, unreachable := false, false
	for _, t := range pod.Spec.Tolerations {
		noExecute := t.Effect == corev1.TaintEffectNoExecute || t.Effect == ""
		if noExecute && (t.Key == corev1.TaintNodeNotReady || t.Key == "") {
			notReady = true
		}
		if noExecute && (t.Key == corev1.TaintNodeUnreachable || t.Key == "") {
			unreachable = true
		}
	}
	if !notReady {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, copyOf(p.notReady))
	}
	if !unreachable {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, copyOf(p.unreachable))
	}
	return nil
}

// copyOf gives each pod its own seconds, so no pod shares the plugin's pointer.
func copyOf(t corev1.Toleration) corev1.Toleration {
	s := *t.TolerationSeconds
	t.TolerationSeconds = &s
	return t
}
