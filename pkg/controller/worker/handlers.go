package worker

import (
	"k8s.io/client-go/tools/cache"
)

// Object returns the object an informer handed to an event handler as a T,
// unwrapping the tombstone a delete carries when the informer missed the final
// state. ok is false for anything else.
func Object[T any](obj interface{}) (T, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	v, ok := obj.(T)
	return v, ok
}

// Key is the queue key of an object (namespace/name, or name), tombstones included.
func Key(obj interface{}) (string, bool) {
	k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	return k, err == nil
}
