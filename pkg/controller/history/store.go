package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/util/retry"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
)

// maxCollisions bounds the renaming after hash collisions: each one means
// another revision already holds the name with different data, which a few
// bumps always get past.
const maxCollisions = 100

// Store reads revisions from an informer's cache and writes them through the API.
type Store struct {
	Client kubernetes.Interface
	Lister appslisters.ControllerRevisionLister
}

// Claim returns the revisions m's controller owns, after adopting orphans
// that its selector matches and releasing owned ones it no longer matches.
func (s *Store) Claim(ctx context.Context, m *controllerref.Manager, selector labels.Selector) ([]*appsv1.ControllerRevision, error) {
	all, err := s.Lister.ControllerRevisions(m.Controller.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	return controllerref.Claim(ctx, m, all, func(r *appsv1.ControllerRevision) bool { return selector.Matches(labels.Set(r.Labels)) },
		func(ctx context.Context, r *appsv1.ControllerRevision, patch []byte) error {
			_, err := s.Client.AppsV1().ControllerRevisions(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		})
}

// Create creates rev for owner. When another revision already has the name,
// with other data, collisionCount is bumped and the name recomputed; the
// caller keeps the count in its owner's status. A revision that already
// exists with the same data is returned as if created.
func (s *Store) Create(ctx context.Context, owner metav1.Object, rev *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	if collisionCount == nil {
		return nil, errors.New("create revision: a collision count is required")
	}
	clone := rev.DeepCopy()
	clone.Namespace = owner.GetNamespace()
	client := s.Client.AppsV1().ControllerRevisions(clone.Namespace)
	for i := 0; i < maxCollisions; i++ {
		hash := HashData(rev.Data.Raw, collisionCount)
		clone.Name = Name(owner.GetName(), hash)
		if clone.Labels != nil {
			clone.Labels[HashLabel] = hash
		}
		created, err := client.Create(ctx, clone, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			if err != nil {
				return nil, fmt.Errorf("create revision %s: %w", clone.Name, err)
			}
			return created, nil
		}
		existing, err := client.Get(ctx, clone.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("read revision %s after a name collision: %w", clone.Name, err)
		}
		if bytes.Equal(existing.Data.Raw, clone.Data.Raw) {
			return existing, nil
		}
		*collisionCount++
	}
	return nil, fmt.Errorf("create revision of %s/%s: %d name collisions in a row", owner.GetNamespace(), owner.GetName(), maxCollisions)
}

// Renumber sets rev's Revision to n (a rollback makes an old revision the
// newest), retrying on conflicts with the cached copy.
func (s *Store) Renumber(ctx context.Context, rev *appsv1.ControllerRevision, n int64) (*appsv1.ControllerRevision, error) {
	clone := rev.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if clone.Revision == n {
			return nil
		}
		clone.Revision = n
		updated, err := s.Client.AppsV1().ControllerRevisions(clone.Namespace).Update(ctx, clone, metav1.UpdateOptions{})
		if err == nil {
			clone = updated
			return nil
		}
		if cached, gerr := s.Lister.ControllerRevisions(clone.Namespace).Get(clone.Name); gerr == nil {
			clone = cached.DeepCopy()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("renumber revision %s/%s to %d: %w", rev.Namespace, rev.Name, n, err)
	}
	return clone, nil
}

// Delete deletes rev; one already gone is not an error.
func (s *Store) Delete(ctx context.Context, rev *appsv1.ControllerRevision) error {
	err := s.Client.AppsV1().ControllerRevisions(rev.Namespace).Delete(ctx, rev.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete revision %s/%s: %w", rev.Namespace, rev.Name, err)
	}
	return nil
}
