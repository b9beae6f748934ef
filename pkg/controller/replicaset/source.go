package replicaset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Source is where the controller finds what it keeps, seen as ReplicaSets:
// ReplicaSets themselves, or ReplicationControllers converted (package
// replication), as upstream runs one controller for both.
type Source interface {
	// Kind is the kind controller references name.
	Kind() schema.GroupVersionKind
	Informer() cache.SharedIndexInformer
	// AsReplicaSet returns an object of the informer as a ReplicaSet (to be
	// treated as read-only); ok is false for anything else. A converted object
	// carries its own kind in TypeMeta, so events name the real object.
	AsReplicaSet(obj interface{}) (*appsv1.ReplicaSet, bool)
	// Get reads the object from the API server.
	Get(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error)
	UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
}

// ReplicaSets is the Source of apps/v1 ReplicaSets.
func ReplicaSets(client kubernetes.Interface, informer appsinformers.ReplicaSetInformer) Source {
	return &replicaSets{client: client, informer: informer.Informer()}
}

type replicaSets struct {
	client   kubernetes.Interface
	informer cache.SharedIndexInformer
}

func (r *replicaSets) Kind() schema.GroupVersionKind {
	return appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
}
func (r *replicaSets) Informer() cache.SharedIndexInformer { return r.informer }

func (r *replicaSets) AsReplicaSet(obj interface{}) (*appsv1.ReplicaSet, bool) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	return rs, ok
}

func (r *replicaSets) Get(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	return r.client.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (r *replicaSets) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return r.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
}
