// Package defaultstorageclass is upstream's DefaultStorageClass admission
// plugin: a new PersistentVolumeClaim that names no storage class gets the
// cluster's default one (the StorageClass annotated
// storageclass.kubernetes.io/is-default-class=true; the newest when several
// are).
package defaultstorageclass

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "DefaultStorageClass"

// The annotations that make a class the default, and the claim's old way of
// naming its class.
const (
	IsDefaultAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaIsDefaultAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
	betaClassAnnotation     = "volume.beta.kubernetes.io/storage-class"
)

var (
	claimsGR          = schema.GroupResource{Resource: "persistentvolumeclaims"}
	storageClassesGVR = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
)

// Plugin is the DefaultStorageClass plugin.
type Plugin struct {
	admission.Handler
	objects admission.Objects
}

var (
	_ admission.MutationInterface = &Plugin{}
	_ admission.ResourceSelector  = &Plugin{}
)

// New returns the plugin reading StorageClasses from objects.
func New(objects admission.Objects) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create), objects: objects}
}

// HandlesResource: claims, not their subresources.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource == claimsGR && t.Subresource == ""
}

// Admit names the default class in a claim that names none. A claim that
// names "" asks for no class and keeps it.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	pvc, ok := a.Object.(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Spec.StorageClassName != nil {
		return nil
	}
	if _, ok := pvc.Annotations[betaClassAnnotation]; ok {
		return nil
	}
	objs, err := p.objects.List(ctx, storageClassesGVR, "")
	if err != nil {
		return a.Forbidden(err)
	}
	var classes []*storagev1.StorageClass
	for _, o := range objs {
		if c, ok := o.(*storagev1.StorageClass); ok {
			classes = append(classes, c)
		}
	}
	if def := Default(classes); def != nil {
		name := def.Name
		pvc.Spec.StorageClassName = &name
	}
	return nil
}

// IsDefault reports whether a class is annotated as the default.
func IsDefault(c *storagev1.StorageClass) bool {
	return c.Annotations[IsDefaultAnnotation] == "true" || c.Annotations[betaIsDefaultAnnotation] == "true"
}

// Default is the default class: of those annotated, the newest, and of
// those created at once the first by name; nil when none is.
func Default(classes []*storagev1.StorageClass) *storagev1.StorageClass {
	var best *storagev1.StorageClass
	for _, c := range classes {
		if !IsDefault(c) {
			continue
		}
		if best == nil || c.CreationTimestamp.After(best.CreationTimestamp.Time) ||
			c.CreationTimestamp.Equal(&best.CreationTimestamp) && c.Name < best.Name {
			best = c
		}
	}
	return best
}
