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
