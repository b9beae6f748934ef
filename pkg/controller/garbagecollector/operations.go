package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/retry"
)

// errInvalidNamespace: a cluster-scoped object names a namespaced owner. No
// retry can fix that; the object is left alone (and an event says why).
var errInvalidNamespace = errors.New("cluster-scoped object refers to a namespaced owner")

// api is how the collector reads and writes objects of any resource: metadata
// only, resources found through the REST mapper.
type api struct {
	client metadata.Interface
	mapper meta.ResettableRESTMapper
}

// mapping resolves apiVersion and kind to a resource, refreshing the mapper once
// when the kind is unknown (a CRD created since).
func (a *api) mapping(apiVersion, kind string) (schema.GroupVersionResource, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return schema.GroupVersionResource{}, false, err
	}
	m, err := a.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	if err != nil {
		a.mapper.Reset()
		m, err = a.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: kind}, gv.Version)
	}
	if err != nil {
		return schema.GroupVersionResource{}, false, fmt.Errorf("no resource for %s %s: %w", apiVersion, kind, err)
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

func (a *api) resource(r objectRef) (metadata.ResourceInterface, error) {
	gvr, namespaced, err := a.mapping(r.APIVersion, r.Kind)
	if err != nil {
		return nil, err
	}
	if namespaced {
		return a.client.Resource(gvr).Namespace(r.Namespace), nil
	}
	return a.client.Resource(gvr), nil
}

func (a *api) get(ctx context.Context, r objectRef) (*metav1.PartialObjectMetadata, error) {
	res, err := a.resource(r)
	if err != nil {
		return nil, err
	}
	return res.Get(ctx, r.Name, metav1.GetOptions{})
}

// delete deletes r if it is still the object judged (same UID and
// resourceVersion); if it changed only in ways that do not matter to the
// judgement (its owners are the same), it is deleted anyway.
func (a *api) delete(ctx context.Context, r objectRef, judged *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation) error {
	res, err := a.resource(r)
	if err != nil {
		return err
	}
	uid, rv := judged.UID, judged.ResourceVersion
	err = res.Delete(ctx, r.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}, PropagationPolicy: &policy})
	if !apierrors.IsConflict(err) {
		return ignoreNotFound(err)
	}
	latest, err := res.Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		return ignoreNotFound(err)
	}
	if latest.UID != uid || !sameOwners(latest.OwnerReferences, judged.OwnerReferences) {
		return fmt.Errorf("%s changed while being judged; looking again", r)
	}
	err = res.Delete(ctx, r.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &policy})
	return ignoreNotFound(err)
}

func sameOwners(a, b []metav1.OwnerReference) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !ownerRefEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// metaPatch is a JSON merge patch of the metadata the collector changes; the
// resourceVersion makes it fail if the object changed since it was read.
type metaPatch struct {
	Metadata struct {
		ResourceVersion string                   `json:"resourceVersion"`
		UID             types.UID                `json:"uid"`
		OwnerReferences *[]metav1.OwnerReference `json:"ownerReferences,omitempty"`
		Finalizers      *[]string                `json:"finalizers,omitempty"`
	} `json:"metadata"`
}

// updateMeta rewrites r's owner references or finalizers with change, retrying
// on conflicts. change returns false when there is nothing to write. A JSON
// merge patch works for every resource, custom ones included.
func (a *api) updateMeta(ctx context.Context, r objectRef, change func(m *metav1.PartialObjectMetadata, p *metaPatch) bool) error {
	res, err := a.resource(r)
	if err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		latest, err := res.Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			return ignoreNotFound(err)
		}
		if latest.UID != r.UID {
			return nil // replaced by a namesake: not ours to change
		}
		var p metaPatch
		p.Metadata.ResourceVersion, p.Metadata.UID = latest.ResourceVersion, latest.UID
		if !change(latest, &p) {
			return nil
		}
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		_, err = res.Patch(ctx, r.Name, types.MergePatchType, body, metav1.PatchOptions{})
		return ignoreNotFound(err)
	})
}

// removeOwners drops the references to owners from r.
func (a *api) removeOwners(ctx context.Context, r objectRef, owners ...types.UID) error {
	return a.updateMeta(ctx, r, func(m *metav1.PartialObjectMetadata, p *metaPatch) bool {
		left := withoutOwners(m.OwnerReferences, owners)
		if len(left) == len(m.OwnerReferences) {
			return false
		}
		p.Metadata.OwnerReferences = &left
		return true
	})
}

// unblockOwners turns off r's blockOwnerDeletion references.
func (a *api) unblockOwners(ctx context.Context, r objectRef) error {
	return a.updateMeta(ctx, r, func(m *metav1.PartialObjectMetadata, p *metaPatch) bool {
		refs := unblockedRefs(m.OwnerReferences)
		p.Metadata.OwnerReferences = &refs
		return !sameOwners(refs, m.OwnerReferences)
	})
}

// removeFinalizer removes finalizer f from r (the API server then finishes the
// deletion once no finalizer is left).
func (a *api) removeFinalizer(ctx context.Context, r objectRef, f string) error {
	return a.updateMeta(ctx, r, func(m *metav1.PartialObjectMetadata, p *metaPatch) bool {
		left := withoutFinalizer(m.Finalizers, f)
		if len(left) == len(m.Finalizers) {
			return false
		}
		p.Metadata.Finalizers = &left
		return true
	})
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
