package apiserver

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

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
