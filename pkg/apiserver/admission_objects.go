package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// cachedObjects gives admission plugins the objects they read (namespaces,
// service accounts, classes, quotas) from the storage caches.
type cachedObjects struct{ reg *registry.Registry }

var _ admission.Objects = cachedObjects{}

func (o cachedObjects) resource(gvr schema.GroupVersionResource) *registry.Resource {
	res := o.reg.Get(gvr)
	if res == nil || res.Store == nil {
		return nil
	}
	return res
}

// Get reads the cache first, then the latest state when the cache has not
// seen the object yet (it may lag one created a moment ago).
func (o cachedObjects) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	res := o.resource(gvr)
	if res == nil {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	key := res.Store.Key(namespace, name)
	obj, err := res.Store.Get(ctx, key, name, storage.ReadOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = res.Store.Get(ctx, key, name, storage.ReadOptions{})
	}
	if err != nil {
		return nil, err
	}
	return toServed(res, obj)
}

// Latest waits until the cache has applied every write so far, then reads.
func (o cachedObjects) Latest(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	res := o.resource(gvr)
	if res == nil {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	obj, err := res.Store.Get(ctx, res.Store.Key(namespace, name), name, storage.ReadOptions{})
	if err != nil {
		return nil, err
	}
	return toServed(res, obj)
}

// List reads the objects of a namespace ("" for all) from the cache.
func (o cachedObjects) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]runtime.Object, error) {
	res := o.resource(gvr)
	if res == nil {
		return nil, nil
	}
	list, err := res.Store.List(ctx, storage.ListOptions{ReadOptions: storage.ReadOptions{ResourceVersion: "0"}, Namespace: namespace})
	if err != nil {
		return nil, err
	}
	if !res.Converts() {
		return list.Items, nil
	}
	out := make([]runtime.Object, 0, len(list.Items))
	for _, item := range list.Items {
		served, err := toServed(res, item)
		if err != nil {
			return nil, err
		}
		out = append(out, served)
	}
	return out, nil
}

// UpdateQuotaStatus writes the usage the ResourceQuota admission plugin
// charged to a quota, if the quota is still at the version it was read at.
func (o cachedObjects) UpdateQuotaStatus(ctx context.Context, q *corev1.ResourceQuota) error {
	res := o.resource(schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"})
	if res == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "resourcequotas"}, q.Name)
	}
	_, _, err := res.Store.GuaranteedUpdate(ctx, res.Store.Key(q.Namespace, q.Name), q.Name, false,
		func(existing runtime.Object) (runtime.Object, int64, error) {
			cur, ok := existing.(*corev1.ResourceQuota)
			if !ok || cur.ResourceVersion != q.ResourceVersion {
				return nil, 0, apierrors.NewConflict(schema.GroupResource{Resource: "resourcequotas"}, q.Name,
					fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
			}
			cur.Status.Used = q.Status.Used
			return cur, 0, nil
		})
	return err
}
