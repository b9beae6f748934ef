// Package storageobjectinuseprotection is upstream's
// StorageObjectInUseProtection admission plugin: new PersistentVolumes and
// PersistentVolumeClaims get the protection finalizer, which the pv- and
// pvc-protection controllers lift once nothing uses the object. It is off
// unless enabled, as minik8s has no such controllers yet: without them a
// protected object could never be deleted.
package storageobjectinuseprotection

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "StorageObjectInUseProtection"

// The finalizers, as upstream names them.
const (
	PVCFinalizer = "kubernetes.io/pvc-protection"
	PVFinalizer  = "kubernetes.io/pv-protection"
)

var (
	claimsGR  = schema.GroupResource{Resource: "persistentvolumeclaims"}
	volumesGR = schema.GroupResource{Resource: "persistentvolumes"}
)

// Plugin is the StorageObjectInUseProtection plugin.
type Plugin struct{ admission.Handler }

var (
	_ admission.MutationInterface = &Plugin{}
	_ admission.ResourceSelector  = &Plugin{}
)

// New returns the plugin; it acts on creates.
func New() *Plugin { return &Plugin{Handler: admission.NewHandler(admission.Create)} }

// HandlesResource: volumes and claims, not their subresources.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return (t.Resource == claimsGR || t.Resource == volumesGR) && t.Subresource == ""
}

// Admit adds the finalizer the object lacks.
func (p *Plugin) Admit(_ context.Context, a *admission.Attributes) error {
	switch o := a.Object.(type) {
	case *corev1.PersistentVolumeClaim:
		if !slices.Contains(o.Finalizers, PVCFinalizer) {
			o.Finalizers = append(o.Finalizers, PVCFinalizer)
		}
	case *corev1.PersistentVolume:
		if !slices.Contains(o.Finalizers, PVFinalizer) {
			o.Finalizers = append(o.Finalizers, PVFinalizer)
		}
	}
	return nil
}
