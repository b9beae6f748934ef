// Package defaultingressclass is upstream's DefaultIngressClass admission
// plugin: a new Ingress that names no class gets the cluster's default
// IngressClass (annotated ingressclass.kubernetes.io/is-default-class=true;
// the newest when several are).
package defaultingressclass

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "DefaultIngressClass"

// IsDefaultAnnotation marks the default IngressClass.
const IsDefaultAnnotation = "ingressclass.kubernetes.io/is-default-class"

// classAnnotation is the old way an Ingress names its class.
const classAnnotation = "kubernetes.io/ingress.class"

var (
	ingressesGR       = schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}
	ingressClassesGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}
)

// Plugin is the DefaultIngressClass plugin.
type Plugin struct {
	admission.Handler
	objects admission.Objects
}

var (
	_ admission.MutationInterface = &Plugin{}
	_ admission.ResourceSelector  = &Plugin{}
)

// New returns the plugin reading IngressClasses from objects.
func New(objects admission.Objects) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create), objects: objects}
}

// HandlesResource: ingresses, not their subresources.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource == ingressesGR && t.Subresource == ""
}

// Admit names the default class in an Ingress that names none.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	ing, ok := a.Object.(*networkingv1.Ingress)
	if !ok || ing.Spec.IngressClassName != nil {
		return nil
	}
	if _, ok := ing.Annotations[classAnnotation]; ok {
		return nil
	}
	objs, err := p.objects.List(ctx, ingressClassesGVR, "")
	if err != nil {
		return a.Forbidden(err)
	}
	var classes []*networkingv1.IngressClass
	for _, o := range objs {
		if c, ok := o.(*networkingv1.IngressClass); ok {
			classes = append(classes, c)
		}
	}
	if def := Default(classes); def != nil {
		name := def.Name
		ing.Spec.IngressClassName = &name
	}
	return nil
}

// Default is the default class: of those annotated, the newest, and of those
// created at once the first by name; nil when none is.
func Default(classes []*networkingv1.IngressClass) *networkingv1.IngressClass {
	var best *networkingv1.IngressClass
	for _, c := range classes {
		if c.Annotations[IsDefaultAnnotation] != "true" {
			continue
		}
		if best == nil || c.CreationTimestamp.After(best.CreationTimestamp.Time) ||
			c.CreationTimestamp.Equal(&best.CreationTimestamp) && c.Name < best.Name {
			best = c
		}
	}
	return best
}
