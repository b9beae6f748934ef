package apiserver

import (
	"context"
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/registry"
)

// writeOptions are what every write request says besides its body.
type writeOptions struct {
	dryRun  bool
	manager string
}

func (q *request) writeOptions() (writeOptions, error) {
	o, err := q.options()
	if err != nil {
		return writeOptions{}, err
	}
	return writeOptions{dryRun: len(o.dryRun) > 0, manager: managerName(o.fieldManager, q.r.UserAgent())}, nil
}

// create answers POST of a new object.
// Its checks run in upstream's order: Content-Type (415), size (413), options
// (400, 422), then the body itself.
func (q *request) create() error {
	if _, err := inputSerializer(q.r); err != nil {
		return err
	}
	body, err := q.readBody()
	if err != nil {
		return err
	}
	opts, err := q.writeOptions()
	if err != nil {
		return err
	}
	obj, err := q.decodeObject(body)
	if err != nil {
		return err
	}
	if err := q.checkNamespace(obj); err != nil {
		return err
	}
	created, err := q.s.createObject(withAdmissionWarnings(q.ctx(), &q.warnings), q.res, obj, opts)
	if err != nil {
		return err
	}
	return q.respond(http.StatusCreated, created)
}

// createVirtual answers a create of a resource that is computed, not stored.
func (q *request) createVirtual() error {
	body, err := q.readBody()
	if err != nil {
		return err
	}
	obj, err := q.decodeObject(body)
	if err != nil {
		return err
	}
	if err := q.checkNamespace(obj); err != nil {
		return err
	}
	dry, err := q.dryRun()
	if err != nil {
		return err
	}
	ctx := withAdmissionWrite(withAdmissionWarnings(q.ctx(), &q.warnings), "", dry)
	q.res.Strategy.Default(obj)
	a := q.s.admissionFor(ctx, admission.Create, q.res, q.info.Namespace, "", obj, nil)
	if err := q.s.mutate(ctx, a); err != nil {
		return err
	}
	if errs := q.res.Strategy.Validate(ctx, obj); len(errs) > 0 {
		return apierrors.NewInvalid(q.res.GroupVersionKind().GroupKind(), obj.(metav1.Object).GetName(), errs)
	}
	if err := q.s.validate(ctx, a, obj); err != nil {
		return err
	}
	out, err := q.res.Create(ctx, obj)
	if err != nil {
		return err
	}
	out.GetObjectKind().SetGroupVersionKind(q.res.GroupVersionKind())
	return q.respond(http.StatusCreated, out)
}

// createObject runs the create path: defaults, managed fields, mutating
// admission, metadata rules, validation, validating admission, hooks and the
// storage write.
func (s *Server) createObject(ctx context.Context, res *registry.Resource, obj runtime.Object, opts writeOptions) (runtime.Object, error) {
	res.Strategy.Default(obj)
	ctx = withAdmissionWrite(ctx, "", opts.dryRun)
	if err := s.guardWrite(ctx, obj, nil, ""); err != nil {
		return nil, err
	}
	// The creator owns what it sent (and its defaults), not what admission and
	// the strategy add afterwards, as upstream: otherwise a later apply by the
	// creator would remove fields such as a pod's service account.
	obj, err := s.fields.update(res, "", nil, obj, opts.manager)
	if err != nil {
		return nil, err
	}
	a := s.admissionFor(ctx, admission.Create, res, obj.(metav1.Object).GetNamespace(), "", obj, nil)
	if err := s.mutateThenPrune(ctx, a, res, obj); err != nil {
		return nil, err
	}
	if err := beforeCreate(ctx, res, obj); err != nil {
		return nil, err
	}
	if err := s.validate(ctx, a, obj); err != nil {
		return nil, err
	}
	undo := func() {}
	if res.Hooks != nil {
		u, err := res.Hooks.BeforeCreate(ctx, obj, opts.dryRun)
		if err != nil {
			return nil, err
		}
		if u != nil {
			undo = u
		}
	}
	if opts.dryRun {
		undo()
		return obj, nil
	}
	stored, err := toStored(res, obj)
	if err != nil {
		undo()
		return nil, err
	}
	m := obj.(metav1.Object)
	var ttl int64
	if res.TTL != nil {
		ttl = res.TTL(obj)
	}
	out, err := res.Store.Create(ctx, res.Store.Key(m.GetNamespace(), m.GetName()), m.GetName(), stored, ttl)
	if err != nil {
		undo()
		return nil, err
	}
	return toServed(res, out)
}

// guardWrite runs the write guard (RBAC escalation checks) for the request's
// user; the server's own writes carry no user and pass, and so does the
// update that marks a deletion (deleting grants nothing).
func (s *Server) guardWrite(ctx context.Context, obj, old runtime.Object, requestName string) error {
	if s.cfg.WriteGuard == nil || admissionInfoFrom(ctx).admitted {
		return nil
	}
	return s.cfg.WriteGuard.Admit(ctx, UserFrom(ctx), obj, old, requestName)
}

// updateFunc computes the new object from a private copy of the current one (nil
// when it does not exist and creation is allowed).
type updateFunc func(ctx context.Context, existing runtime.Object) (runtime.Object, error)

// errDryRunDone stops a dry-run update before it writes.
var errDryRunDone = errors.New("dry run")

// updateObject runs the update path inside storage's retry loop: the caller's
// change, managed fields, mutating admission, metadata rules, validation,
// validating admission, and the finalizer rule that an object being deleted
// goes once its last finalizer is removed.
func (s *Server) updateObject(ctx context.Context, res *registry.Resource, namespace, name, subresource string,
	allowCreate bool, rules updateRules, opts writeOptions, fn updateFunc) (runtime.Object, bool, error) {
	key := res.Store.Key(namespace, name)
	ctx = withAdmissionWrite(ctx, subresource, opts.dryRun)
	var result runtime.Object
	var undo func()
	wasCreate := false
	out, created, err := res.Store.GuaranteedUpdate(ctx, key, name, allowCreate, func(existingStored runtime.Object) (runtime.Object, int64, error) {
		if undo != nil {
			undo()
			undo = nil
		}
		existing, err := toServed(res, existingStored)
		if err != nil {
			return nil, 0, err
		}
		obj, err := fn(ctx, existing)
		if err != nil {
			return nil, 0, err
		}
		wasCreate = existing == nil
		if err := s.guardWrite(ctx, obj, existing, name); err != nil {
			return nil, 0, err
		}
		if existing == nil {
			res.Strategy.Default(obj)
		}
		// Managed fields record the caller's change alone, before admission and
		// the strategy change the object (as createObject).
		if !rules.applied {
			if obj, err = s.fields.update(res, subresource, existing, obj, opts.manager); err != nil {
				return nil, 0, err
			}
		}
		if existing == nil {
			a := s.admissionFor(ctx, admission.Create, res, namespace, name, obj, nil)
			if err := s.mutateThenPrune(ctx, a, res, obj); err != nil {
				return nil, 0, err
			}
			if err := beforeCreate(ctx, res, obj); err != nil {
				return nil, 0, err
			}
			if err := s.validate(ctx, a, obj); err != nil {
				return nil, 0, err
			}
			if res.Hooks != nil {
				if undo, err = res.Hooks.BeforeCreate(ctx, obj, opts.dryRun); err != nil {
					return nil, 0, err
				}
			}
		} else {
			a := s.admissionFor(ctx, admission.Update, res, namespace, name, obj, existing)
			if err := s.mutateThenPrune(ctx, a, res, obj); err != nil {
				return nil, 0, err
			}
			if err := beforeUpdate(ctx, res, obj, existing, rules); err != nil {
				return nil, 0, err
			}
			if err := s.validate(ctx, a, obj); err != nil {
				return nil, 0, err
			}
			if res.Hooks != nil {
				if undo, err = res.Hooks.BeforeUpdate(ctx, obj, existing, opts.dryRun); err != nil {
					return nil, 0, err
				}
			}
		}
		result = obj
		if opts.dryRun {
			return nil, 0, errDryRunDone
		}
		var ttl int64
		if res.TTL != nil {
			ttl = res.TTL(obj)
		}
		stored, err := toStored(res, obj)
		return stored, ttl, err
	})
	if errors.Is(err, errDryRunDone) {
		if undo != nil {
			undo()
		}
		return result, wasCreate, nil
	}
	if err != nil {
		if undo != nil {
			undo()
		}
		return nil, false, err
	}
	served, err := toServed(res, out)
	if err != nil {
		return nil, false, err
	}
	// The last finalizer removed from an object being deleted: delete it now.
	m := served.(metav1.Object)
	if m.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) == 0 && deletionReady(res, served) {
		rv := m.GetResourceVersion()
		if _, err := s.removeObject(ctx, res, m.GetNamespace(), m.GetName(), &rv); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return nil, false, err
		}
	}
	return served, created, nil
}

// deletionReady reports whether a deleting object with no finalizers may go now: only
// a graceful pod deletion waits for its grace period (the kubelet finishes it).
func deletionReady(res *registry.Resource, obj runtime.Object) bool {
	if namespaceHasFinalizers(obj) {
		return false
	}
	m := obj.(metav1.Object)
	if g := m.GetDeletionGracePeriodSeconds(); g != nil && *g > 0 {
		_, graceful := res.Strategy.(registry.GracefulStrategy)
		return !graceful
	}
	return true
}

// update answers PUT of an object, its status, or a namespace's finalize.
// As upstream's, it reads the body (413) and the options (400, 422) before it
// looks at the Content-Type (415).
func (q *request) update(subresource string) error {
	body, err := q.readBody()
	if err != nil {
		return err
	}
	opts, err := q.writeOptions()
	if err != nil {
		return err
	}
	obj, err := q.decodeObject(body)
	if err != nil {
		return err
	}
	m := obj.(metav1.Object)
	if m.GetName() != q.info.Name {
		return apierrors.NewBadRequest("the name of the object (" + m.GetName() + ") does not match the name on the URL (" + q.info.Name + ")")
	}
	if err := q.checkNamespace(obj); err != nil {
		return err
	}
	q.res.Strategy.Default(obj)
	rules := updateRules{subresource: subresource, unconditional: !q.res.UpdateNeedsResourceVersion}
	fn := func(ctx context.Context, existing runtime.Object) (runtime.Object, error) {
		o := obj.DeepCopyObject()
		if existing != nil && subresource == "finalize" {
			return finalizeNamespace(o, existing)
		}
		return o, nil
	}
	out, created, err := q.s.updateObject(withAdmissionWarnings(q.ctx(), &q.warnings), q.res, q.info.Namespace, q.info.Name, subresource,
		q.res.CreateOnUpdate && subresource == "", rules, opts, fn)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return q.respond(code, out)
}
