package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// deleteOptions reads DeleteOptions from the body, or from the query when there is
// no body, as upstream accepts both.
func (q *request) deleteOptions() (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	if q.r.ContentLength != 0 && q.r.Body != nil && q.r.Body != http.NoBody {
		body, err := q.readBody()
		if err != nil && !apierrors.IsBadRequest(err) {
			return nil, err
		}
		if len(body) > 0 {
			info, err := inputSerializer(q.r)
			if err != nil {
				return nil, err
			}
			gvk := metav1.SchemeGroupVersion.WithKind("DeleteOptions")
			obj, _, err := info.Serializer.Decode(body, &gvk, opts)
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("decode DeleteOptions: %v", err))
			}
			o, ok := obj.(*metav1.DeleteOptions)
			if !ok {
				// Deleting with default options would ignore what the client said.
				return nil, apierrors.NewBadRequest("decoded object cannot be converted to DeleteOptions")
			}
			opts = o
		}
	}
	if len(q.query) > 0 {
		if err := apis.ParameterCodec.DecodeParameters(q.query, metav1.SchemeGroupVersion, opts); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
	}
	if err := validateDeleteOptions(opts); err != nil {
		return nil, err
	}
	return opts, nil
}

// validateDeleteOptions checks the options of a deletion (DELETE, or an
// eviction's deleteOptions); a negative grace period becomes the shortest.
func validateDeleteOptions(opts *metav1.DeleteOptions) error {
	var errs field.ErrorList
	if opts.OrphanDependents != nil && opts.PropagationPolicy != nil {
		errs = append(errs, field.Invalid(field.NewPath("propagationPolicy"), opts.PropagationPolicy, "orphanDependents and deletionPropagation cannot be both set"))
	}
	if p := opts.PropagationPolicy; p != nil && *p != metav1.DeletePropagationForeground && *p != metav1.DeletePropagationBackground && *p != metav1.DeletePropagationOrphan {
		errs = append(errs, field.NotSupported(field.NewPath("propagationPolicy"), *p, []string{"Foreground", "Background", "Orphan", "nil"}))
	}
	for _, d := range opts.DryRun {
		if d != metav1.DryRunAll {
			errs = append(errs, field.NotSupported(field.NewPath("dryRun"), d, []string{"All"}))
		}
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		zero := int64(1)
		opts.GracePeriodSeconds = &zero
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "DeleteOptions"}, "", errs)
	}
	return nil
}

// delete answers DELETE of one object.
func (q *request) delete() error {
	opts, err := q.deleteOptions()
	if err != nil {
		return err
	}
	ctx := withAdmissionWrite(withAdmissionWarnings(q.ctx(), &q.warnings), "", len(opts.DryRun) > 0)
	a := q.s.admissionFor(ctx, admission.Delete, q.res, q.info.Namespace, q.info.Name, nil, nil)
	if a != nil {
		a.Options = opts
	}
	if err := q.s.mutate(ctx, a); err != nil {
		return err
	}
	q.warnOrphaning(opts)
	obj, deleted, err := q.s.deleteObject(ctx, q.res, q.info.Namespace, q.info.Name, opts, a)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if !deleted && opts.OrphanDependents != nil && !*opts.OrphanDependents {
		code = http.StatusAccepted
	}
	if deleted && !q.res.DeleteReturnsObject {
		m := obj.(metav1.Object)
		st := successStatus(m.GetName(), q.res.Name, string(m.GetUID()))
		st.Details.Group = q.res.Group
		return q.respond(code, st)
	}
	return q.respond(code, obj)
}

// warnOrphaning warns, as upstream does for batch/v1 Jobs, that a deletion
// without a propagation policy keeps the object's dependents.
func (q *request) warnOrphaning(opts *metav1.DeleteOptions) {
	if q.res.OrphanWarning != "" && orphansByDefault(q.res, opts) {
		q.warnings = append(q.warnings, q.res.OrphanWarning)
	}
}

// deleteObject runs the delete path: preconditions, validating admission (a,
// when not nil) of the object as it is, graceful deletion, finalizers (added for
// orphan and foreground propagation), then the removal. It reports whether the
// object is gone.
func (s *Server) deleteObject(ctx context.Context, res *registry.Resource, namespace, name string, opts *metav1.DeleteOptions, a *admission.Attributes) (runtime.Object, bool, error) {
	dryRun := len(opts.DryRun) > 0
	key := res.Store.Key(namespace, name)
	current, err := res.Store.Get(ctx, key, name, storage.ReadOptions{})
	if err != nil {
		return nil, false, err
	}
	if err := checkDeletePreconditions(res, name, current, opts.Preconditions); err != nil {
		return nil, false, err
	}
	served, err := toServed(res, current)
	if err != nil {
		return nil, false, err
	}
	if a != nil {
		a.OldObject = served
		if err := s.validate(ctx, a, nil); err != nil {
			return nil, false, err
		}
	}
	grace, graceful := int64(0), false
	if gs, ok := res.Strategy.(registry.GracefulStrategy); ok {
		grace, graceful = gs.GracePeriod(served, opts.GracePeriodSeconds)
	}
	m := served.(metav1.Object)
	finalizers, finalizersChange := gcFinalizers(res, m.GetFinalizers(), opts)
	pending := graceful && grace > 0
	// Objects with finalizers (a CRD's cleanup, the garbage collector's) are
	// marked, not removed.
	needsUpdate := pending || len(finalizers) > 0 || finalizersChange || res.Name == "namespaces" && namespaceHasFinalizers(served)
	if !needsUpdate {
		if dryRun {
			return served, true, nil
		}
		rv := m.GetResourceVersion()
		out, err := s.removeObject(ctx, res, namespace, name, &rv)
		if apierrors.IsConflict(err) {
			// Changed since we looked: start over with the new state.
			return s.deleteObject(ctx, res, namespace, name, opts, a)
		}
		return out, err == nil, err
	}
	// Mark the object as being deleted; the kubelet, the garbage collector or the
	// namespace controller finishes the job.
	now := metav1.NewTime(time.Now())
	wo := writeOptions{dryRun: dryRun, manager: "before-first-apply"}
	out, _, err := s.updateObject(withAdmitted(ctx), res, namespace, name, "", false, updateRules{unconditional: true, applied: true}, wo,
		func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			if err := checkDeletePreconditions(res, name, existing, opts.Preconditions); err != nil {
				return nil, err
			}
			em := existing.(metav1.Object)
			// Recomputed against the object as it is now (it may have changed since).
			if fs, changed := gcFinalizers(res, em.GetFinalizers(), opts); changed {
				em.SetFinalizers(fs)
			}
			cur := em.GetDeletionGracePeriodSeconds()
			switch {
			case em.GetDeletionTimestamp() == nil:
				ts := now
				if pending {
					ts = metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
				}
				em.SetDeletionTimestamp(&ts)
				g := grace
				em.SetDeletionGracePeriodSeconds(&g)
				if em.GetGeneration() > 0 {
					em.SetGeneration(em.GetGeneration() + 1)
				}
			case pending && cur != nil && grace < *cur:
				// A shorter grace period replaces a longer one.
				ts := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
				em.SetDeletionTimestamp(&ts)
				g := grace
				em.SetDeletionGracePeriodSeconds(&g)
			}
			if ns, ok := existing.(*corev1.Namespace); ok {
				ns.Status.Phase = corev1.NamespaceTerminating
			}
			return existing, nil
		})
	if err != nil {
		return nil, false, err
	}
	if _, err := res.Store.Get(ctx, key, name, storage.ReadOptions{}); apierrors.IsNotFound(err) {
		return out, true, nil
	}
	return out, false, nil
}

// beforeUpdate would reject the deletion fields we set; updateObject's rules let
// deleteObject set them because it edits the existing object directly.

func checkDeletePreconditions(res *registry.Resource, name string, obj runtime.Object, p *metav1.Preconditions) error {
	if p == nil {
		return nil
	}
	m := obj.(metav1.Object)
	if p.UID != nil && *p.UID != m.GetUID() {
		return apierrors.NewConflict(res.GroupResource(), name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return apierrors.NewConflict(res.GroupResource(), name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}

// orphansByDefault reports whether a deletion without options orphans the
// resource's dependents (callers warn about Jobs).
func orphansByDefault(res *registry.Resource, opts *metav1.DeleteOptions) bool {
	return opts.PropagationPolicy == nil && opts.OrphanDependents == nil && res.GCPolicy == registry.GCOrphan
}

// gcFinalizers returns the finalizers an object carries once this deletion
// starts, and whether they changed, following upstream's rules: the deletion's
// options decide (orphanDependents, then propagationPolicy); without them a GC
// finalizer the object already carries stays; without that the resource's
// default applies. Other finalizers are kept.
func gcFinalizers(res *registry.Resource, have []string, opts *metav1.DeleteOptions) ([]string, bool) {
	policy := res.GCPolicy
	if policy == registry.GCUnsupported {
		return have, false
	}
	orphan, foreground := false, false
	switch {
	case opts.OrphanDependents != nil:
		orphan = *opts.OrphanDependents
	case opts.PropagationPolicy != nil:
		orphan = *opts.PropagationPolicy == metav1.DeletePropagationOrphan
		foreground = *opts.PropagationPolicy == metav1.DeletePropagationForeground
	default:
		decided := false
		for _, f := range have {
			if f == metav1.FinalizerOrphanDependents || f == metav1.FinalizerDeleteDependents {
				orphan, foreground, decided = f == metav1.FinalizerOrphanDependents, f == metav1.FinalizerDeleteDependents, true
				break
			}
		}
		if !decided {
			orphan = policy == registry.GCOrphan
		}
	}
	var out []string
	for _, f := range have {
		if f != metav1.FinalizerOrphanDependents && f != metav1.FinalizerDeleteDependents {
			out = append(out, f)
		}
	}
	if orphan {
		out = append(out, metav1.FinalizerOrphanDependents)
	}
	if foreground {
		out = append(out, metav1.FinalizerDeleteDependents)
	}
	return out, !sameStringSet(have, out)
}

func sameStringSet(a, b []string) bool {
	seen := map[string]int{}
	for _, s := range a {
		seen[s] |= 1
	}
	for _, s := range b {
		seen[s] |= 2
	}
	for _, v := range seen {
		if v != 3 {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func namespaceHasFinalizers(obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && (len(ns.Spec.Finalizers) > 0 || len(ns.Finalizers) > 0)
}

// removeObject deletes an object from storage (if its resourceVersion is still rv)
// and releases what it held.
func (s *Server) removeObject(ctx context.Context, res *registry.Resource, namespace, name string, rv *string) (runtime.Object, error) {
	pre := &storage.Preconditions{ResourceVersion: rv}
	out, err := res.Store.Delete(ctx, res.Store.Key(namespace, name), name, pre, func(existing runtime.Object) error {
		m := existing.(metav1.Object)
		if len(m.GetFinalizers()) > 0 {
			return apierrors.NewConflict(res.GroupResource(), name, fmt.Errorf("the object has finalizers"))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	served, err := toServed(res, out)
	if err != nil {
		return nil, err
	}
	if res.Hooks != nil {
		res.Hooks.AfterDelete(ctx, served)
	}
	return served, nil
}

// deleteCollection answers DELETE of a collection: every selected object is deleted
// with the same options, and the list of them is returned.
func (q *request) deleteCollection() error {
	opts, err := q.deleteOptions()
	if err != nil {
		return err
	}
	p, err := q.listParams()
	if err != nil {
		return err
	}
	q.warnOrphaning(opts)
	ctx := withAdmissionWrite(withAdmissionWarnings(q.ctx(), &q.warnings), "", len(opts.DryRun) > 0)
	result, err := q.res.Store.List(q.ctx(), storage.ListOptions{Namespace: q.info.Namespace, Predicate: p.pred})
	if err != nil {
		return err
	}
	var deleted []runtime.Object
	for _, obj := range result.Items {
		m := obj.(metav1.Object)
		a := q.s.admissionFor(ctx, admission.Delete, q.res, m.GetNamespace(), m.GetName(), nil, nil)
		if a != nil {
			a.Options = opts
		}
		err := q.s.mutate(ctx, a)
		var out runtime.Object
		if err == nil {
			out, _, err = q.s.deleteObject(ctx, q.res, m.GetNamespace(), m.GetName(), opts, a)
		}
		if err != nil {
			// What admission refuses (the immortal namespaces) stays, as
			// upstream's collection deletion skips it.
			if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
				continue
			}
			return err
		}
		deleted = append(deleted, out)
	}
	list := q.res.NewList()
	if err := meta.SetList(list, deleted); err != nil {
		return err
	}
	lm, _ := meta.ListAccessor(list)
	lm.SetResourceVersion(strconv.FormatInt(q.res.Store.CurrentRevision(), 10))
	gvk := q.res.GroupVersionKind()
	list.GetObjectKind().SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	return q.respond(http.StatusOK, list)
}
