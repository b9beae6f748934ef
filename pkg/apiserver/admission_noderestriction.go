package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission/noderestriction"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// admitNodeRestriction runs the NodeRestriction plugin on a write of a node's.
// Only requests of node users reach the plugin's checks; others return at once.
func (a *admission) admitNodeRestriction(ctx context.Context, op noderestriction.Operation, res *registry.Resource,
	namespace, name string, obj, old runtime.Object) error {
	u := UserFrom(ctx)
	if u == nil {
		return nil
	}
	return noderestriction.Admit(ctx, noderestriction.Attributes{
		User: u, Operation: op, Group: res.Group, Resource: res.Name, Subresource: admissionInfoFrom(ctx).subresource,
		Namespace: namespace, Name: name, Object: obj, OldObject: old,
	}, registryLookup{a.reg})
}

// registryLookup reads pods and nodes from the cache, then from the latest
// state when the cache has not seen them yet.
type registryLookup struct{ reg *registry.Registry }

func (l registryLookup) get(ctx context.Context, resource, namespace, name string) (runtime.Object, error) {
	res := l.reg.Get(schema.GroupVersionResource{Version: "v1", Resource: resource})
	if res == nil || res.Store == nil {
		return nil, fmt.Errorf("no storage for %s", resource)
	}
	key := res.Store.Key(namespace, name)
	obj, err := res.Store.Get(ctx, key, name, storage.ReadOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = res.Store.Get(ctx, key, name, storage.ReadOptions{})
	}
	return obj, err
}

func (l registryLookup) Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	obj, err := l.get(ctx, "pods", namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

func (l registryLookup) Node(ctx context.Context, name string) (*corev1.Node, error) {
	obj, err := l.get(ctx, "nodes", "", name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Node), nil
}
