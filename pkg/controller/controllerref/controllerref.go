// Package controllerref decides which objects a controller owns, through the
// controller reference (the ownerReference with controller: true), as upstream's
// controller-ref managers do: a controller keeps the objects it controls that
// still match its selector, adopts matching orphans in its namespace, and releases
// the ones it controls that no longer match. Objects another controller controls
// are never touched.
package controllerref

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Action is what a controller does about one candidate object.
type Action int

const (
	// Ignore: another controller's object, or one this controller may not take.
	Ignore Action = iota
	// Keep: controlled and matching.
	Keep
	// Adopt: a matching orphan; it gets the controller reference.
	Adopt
	// Release: controlled but no longer matching; the reference is removed.
	Release
)

func (a Action) String() string {
	return [...]string{"Ignore", "Keep", "Adopt", "Release"}[a]
}

// Decide is the claim rule. A controller being deleted neither adopts nor
// releases (its dependents are the garbage collector's business); objects being
// deleted are not adopted; adoption never crosses namespaces.
func Decide(controller, obj metav1.Object, matches bool) Action {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		switch {
		case ref.UID != controller.GetUID():
			return Ignore
		case matches:
			return Keep
		case controller.GetDeletionTimestamp() != nil:
			return Ignore
		}
		return Release
	}
	switch {
	case !matches, controller.GetDeletionTimestamp() != nil, obj.GetDeletionTimestamp() != nil:
		return Ignore
	case controller.GetNamespace() != "" && controller.GetNamespace() != obj.GetNamespace():
		return Ignore
	}
	return Adopt
}

// Ref returns the controller reference to controller of the given kind.
func Ref(controller metav1.Object, kind schema.GroupVersionKind) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: kind.GroupVersion().String(), Kind: kind.Kind, Name: controller.GetName(),
		UID: controller.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}
}

type patchMeta struct {
	Metadata struct {
		OwnerReferences []interface{} `json:"ownerReferences"`
		// Finalizers merge into the object's (a strategic merge list).
		Finalizers []string `json:"finalizers,omitempty"`
		// UID makes the patch fail if the object was replaced by a namesake.
		UID types.UID `json:"uid"`
	} `json:"metadata"`
}

// AdoptPatch is the strategic merge patch that adds the controller reference to
// the object with uid, and the finalizers given (the Job controller's tracking
// finalizer).
func AdoptPatch(controller metav1.Object, kind schema.GroupVersionKind, uid types.UID, finalizers ...string) []byte {
	var p patchMeta
	p.Metadata.OwnerReferences = []interface{}{Ref(controller, kind)}
	p.Metadata.Finalizers = finalizers
	p.Metadata.UID = uid
	b, _ := json.Marshal(p)
	return b
}

// ReleasePatch is the strategic merge patch that removes owner's reference from
// the object with uid.
func ReleasePatch(owner, uid types.UID) []byte {
	var p patchMeta
	p.Metadata.OwnerReferences = []interface{}{map[string]string{"$patch": "delete", "uid": string(owner)}}
	p.Metadata.UID = uid
	b, _ := json.Marshal(p)
	return b
}

// Manager claims objects for one controller during one sync.
type Manager struct {
	Controller metav1.Object
	Kind       schema.GroupVersionKind
	// CanAdopt, if set, is asked once before the first adoption: upstream
	// re-reads the controller from the API to be sure it is not being deleted
	// (the cache may lag), since adopting for a dying controller would hand the
	// object to the garbage collector.
	CanAdopt func(ctx context.Context) error
	// Finalizers are added to adopted objects along with the reference.
	Finalizers []string

	once     sync.Once
	adoptErr error
}

func (m *Manager) canAdopt(ctx context.Context) error {
	m.once.Do(func() {
		if m.CanAdopt != nil {
			m.adoptErr = m.CanAdopt(ctx)
		}
	})
	return m.adoptErr
}

// Patcher applies a strategic merge patch to one object.
type Patcher[T metav1.Object] func(ctx context.Context, obj T, patch []byte) error

// Claim returns the objects the controller owns once the sync is done: the
// ones it keeps and the ones it adopted. Adoption and release failures are
// joined into the error; objects that vanished meanwhile are skipped.
func Claim[T metav1.Object](ctx context.Context, m *Manager, objs []T, match func(T) bool, patch Patcher[T]) ([]T, error) {
	var claimed []T
	var errs []error
	for _, obj := range objs {
		switch Decide(m.Controller, obj, match(obj)) {
		case Keep:
			claimed = append(claimed, obj)
		case Adopt:
			if err := m.canAdopt(ctx); err != nil {
				errs = append(errs, fmt.Errorf("can't adopt %s %s/%s (%s): %w", kindOf(obj), obj.GetNamespace(), obj.GetName(), obj.GetUID(), err))
				continue
			}
			err := patch(ctx, obj, AdoptPatch(m.Controller, m.Kind, obj.GetUID(), m.Finalizers...))
			switch {
			case err == nil:
				claimed = append(claimed, obj)
			case !apierrors.IsNotFound(err):
				errs = append(errs, fmt.Errorf("adopt %s/%s: %w", obj.GetNamespace(), obj.GetName(), err))
			}
		case Release:
			err := patch(ctx, obj, ReleasePatch(m.Controller.GetUID(), obj.GetUID()))
			// Gone, or replaced by a namesake (the uid precondition): nothing to release.
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("release %s/%s: %w", obj.GetNamespace(), obj.GetName(), err))
			}
		}
	}
	return claimed, errors.Join(errs...)
}

// RecheckDeletion makes a CanAdopt from a live read of the controller: it fails
// if the controller is gone, was replaced (another UID), or is being deleted.
func RecheckDeletion(controller metav1.Object, get func(ctx context.Context) (metav1.Object, error)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return fmt.Errorf("can't recheck DeletionTimestamp: %w", err)
		}
		if fresh.GetUID() != controller.GetUID() {
			return fmt.Errorf("original %s/%s is gone: got uid %s, wanted %s", controller.GetNamespace(), controller.GetName(), fresh.GetUID(), controller.GetUID())
		}
		if ts := fresh.GetDeletionTimestamp(); ts != nil {
			return fmt.Errorf("%s/%s has just been deleted at %v", fresh.GetNamespace(), fresh.GetName(), ts)
		}
		return nil
	}
}

func kindOf(obj metav1.Object) string {
	if o, ok := obj.(interface{ GetObjectKind() schema.ObjectKind }); ok {
		if k := o.GetObjectKind().GroupVersionKind().Kind; k != "" {
			return k
		}
	}
	return reflect.TypeOf(obj).Elem().Name()
}
