package apiserver

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/storage"
)

// Ensure creates obj through the normal create path unless an object of that name
// exists; the server uses it for the objects a cluster starts with.
func (s *Server) Ensure(ctx context.Context, obj runtime.Object) error {
	res := s.cfg.Registry.ForObject(obj)
	if res == nil || res.Store == nil {
		return fmt.Errorf("ensure %T: not a stored resource", obj)
	}
	m := obj.(metav1.Object)
	_, err := res.Store.Get(ctx, res.Store.Key(m.GetNamespace(), m.GetName()), m.GetName(), storage.ReadOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
	if _, err := s.createObject(ctx, res, obj, writeOptions{manager: "minik8s"}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %s %q: %w", res.Name, m.GetName(), err)
	}
	return nil
}

// Reconcile creates obj, or updates the stored object when same says it differs;
// the server keeps objects that describe itself (the kubernetes Endpoints) true
// with it.
// A non-empty subresource ("status") updates through that subresource.
func (s *Server) Reconcile(ctx context.Context, obj runtime.Object, subresource string, same func(existing runtime.Object) bool) error {
	res := s.cfg.Registry.ForObject(obj)
	if res == nil || res.Store == nil {
		return fmt.Errorf("reconcile %T: not a stored resource", obj)
	}
	m := obj.(metav1.Object)
	existing, err := res.Store.Get(ctx, res.Store.Key(m.GetNamespace(), m.GetName()), m.GetName(), storage.ReadOptions{})
	if apierrors.IsNotFound(err) && subresource == "" {
		return s.Ensure(ctx, obj)
	}
	if err != nil {
		return err
	}
	if same(existing) {
		return nil
	}
	obj.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
	_, _, err = s.updateObject(ctx, res, m.GetNamespace(), m.GetName(), subresource, false,
		updateRules{subresource: subresource, unconditional: true}, writeOptions{manager: "minik8s"},
		func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
			cm := cur.(metav1.Object)
			m.SetResourceVersion(cm.GetResourceVersion())
			m.SetUID(cm.GetUID())
			m.SetCreationTimestamp(cm.GetCreationTimestamp())
			return obj.DeepCopyObject(), nil
		})
	if err != nil {
		return fmt.Errorf("update %s %q: %w", res.Name, m.GetName(), err)
	}
	return nil
}

// Get returns a copy of the stored object of kind's type named
// namespace/name as the cache holds it, for the server's own controllers of
// what it stores (the bootstrap policy's reconciliation). The cache may trail
// a write of a moment ago: an update based on it then fails with a conflict,
// a create with AlreadyExists.
func (s *Server) Get(ctx context.Context, kind runtime.Object, namespace, name string) (runtime.Object, error) {
	res := s.cfg.Registry.ForObject(kind)
	if res == nil || res.Store == nil {
		return nil, fmt.Errorf("get %T: not a stored resource", kind)
	}
	obj, err := res.Store.Get(ctx, res.Store.Key(namespace, name), name, storage.ReadOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	out, err := toServed(res, obj)
	if err != nil {
		return nil, err
	}
	out = out.DeepCopyObject()
	out.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
	return out, nil
}

// Create creates obj through the normal create path, as the server.
func (s *Server) Create(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	res := s.cfg.Registry.ForObject(obj)
	if res == nil || res.Store == nil {
		return nil, fmt.Errorf("create %T: not a stored resource", obj)
	}
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
	return s.createObject(ctx, res, obj, writeOptions{manager: "minik8s"})
}

// Update replaces a stored object through the normal update path, as the
// server; a stale resourceVersion is a 409 Conflict.
func (s *Server) Update(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	res := s.cfg.Registry.ForObject(obj)
	if res == nil || res.Store == nil {
		return nil, fmt.Errorf("update %T: not a stored resource", obj)
	}
	m := obj.(metav1.Object)
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
	out, _, err := s.updateObject(ctx, res, m.GetNamespace(), m.GetName(), "", false,
		updateRules{unconditional: true}, writeOptions{manager: "minik8s"},
		func(context.Context, runtime.Object) (runtime.Object, error) { return obj.DeepCopyObject(), nil })
	return out, err
}

// Delete removes a stored object of kind's type, if it still has that uid.
func (s *Server) Delete(ctx context.Context, kind runtime.Object, namespace, name string, uid types.UID) error {
	res := s.cfg.Registry.ForObject(kind)
	if res == nil || res.Store == nil {
		return fmt.Errorf("delete %T: not a stored resource", kind)
	}
	opts := &metav1.DeleteOptions{}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	_, _, err := s.deleteObject(ctx, res, namespace, name, opts, nil)
	return err
}
