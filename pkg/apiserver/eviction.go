package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

	"github.com/minik8s/minik8s/pkg/admission/noderestriction"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/core"
	"github.com/minik8s/minik8s/pkg/storage"
)

// evictionRetry is how often an eviction retries when the pod or its budget
// changes under it, as upstream's.
var evictionRetry = wait.Backoff{Steps: 20, Duration: 500 * time.Millisecond, Factor: 1.0, Jitter: 0.1}

var pdbGVR = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}

// createEviction answers POST pods/NAME/eviction: the pod is deleted unless
// its PodDisruptionBudget forbids it (429), as upstream's eviction subresource.
func (q *request) createEviction() error {
	body, err := q.readBody()
	if err != nil {
		return err
	}
	ev, err := decodeEviction(q.r, body)
	if err != nil {
		return err
	}
	if err := core.ValidateEviction(ev, q.info.Name); err != nil {
		return err
	}
	if _, err := q.dryRun(); err != nil {
		return err
	}
	opts, err := core.EvictionDeleteOptions(ev, q.query["dryRun"])
	if err != nil {
		return err
	}
	if err := validateDeleteOptions(opts); err != nil {
		return err
	}
	ev.Namespace = q.info.Namespace
	actx := withAdmissionWrite(q.ctx(), "eviction", len(opts.DryRun) > 0)
	if err := q.s.admission.admitCreateBuiltin(actx, q.res, ev); err != nil {
		return err
	}
	if err := q.s.admission.admitNodeRestriction(actx, noderestriction.Create, q.res, q.info.Namespace, q.info.Name, ev, nil); err != nil {
		return err
	}
	wo, err := q.writeOptions()
	if err != nil {
		return err
	}
	status, err := q.s.evict(q.ctx(), q.res, q.info.Namespace, q.info.Name, opts, wo.manager)
	if err != nil {
		return err
	}
	return q.respond(http.StatusCreated, status)
}

// decodeEviction reads a policy/v1 or v1beta1 Eviction (the same shape).
func decodeEviction(r *http.Request, body []byte) (*policyv1.Eviction, error) {
	info, err := inputSerializer(r)
	if err != nil {
		return nil, err
	}
	gvk := policyv1.SchemeGroupVersion.WithKind("Eviction")
	obj, _, err := info.Serializer.Decode(body, &gvk, &policyv1.Eviction{})
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("Eviction in version \"v1\" cannot be handled as a Eviction: %v", err))
	}
	switch e := obj.(type) {
	case *policyv1.Eviction:
		return e, nil
	case *policyv1beta1.Eviction:
		return &policyv1.Eviction{ObjectMeta: e.ObjectMeta, DeleteOptions: e.DeleteOptions}, nil
	}
	return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Eviction object: %T", obj))
}

// evict deletes a pod if its budget allows, spending one disruption of it.
func (s *Server) evict(ctx context.Context, pods *registry.Resource, ns, name string, opts *metav1.DeleteOptions, manager string) (*metav1.Status, error) {
	success := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated}
	versionGiven := opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil
	retryable := apierrors.IsConflict
	if versionGiven {
		// The caller pinned a version: a conflict is theirs to handle.
		retryable = func(error) bool { return false }
	}

	// A pod that is not running disrupts nothing: it goes without its budget.
	var pod *corev1.Pod
	deleted := false
	err := retry.OnError(evictionRetry, retryable, func() error {
		var err error
		if pod, err = s.getPod(ctx, pods, ns, name); err != nil {
			return err
		}
		if !core.EvictionSkipsBudget(pod) {
			return nil
		}
		del := opts
		if core.EvictionPinsVersion(pod) && !versionGiven {
			del = pinVersion(opts, pod.ResourceVersion)
		}
		if err := s.evictPod(ctx, pods, ns, name, del, manager); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if deleted {
		return success, nil
	}

	pdbs, err := s.budgetsCovering(ctx, pod)
	if err != nil {
		return nil, err
	}
	if len(pdbs) > 1 {
		return core.MultipleBudgetsStatus(), nil
	}
	pinned, budget := false, ""
	if len(pdbs) == 1 {
		pdb := pdbs[0]
		budget = pdb.Name
		if core.UnhealthyPodMayGo(pdb, pod) {
			// Not Ready and not counted by the budget: it may go, as long as
			// it does not turn Ready meanwhile.
			pinned = true
		} else if err := s.spendBudget(ctx, pdb, pod.Name, len(opts.DryRun) > 0, manager); err != nil {
			return nil, err
		}
	}
	del := opts
	if pinned {
		del = pinVersion(opts, pod.ResourceVersion)
	}
	if err := s.evictPod(ctx, pods, ns, name, del, manager); err != nil {
		if apierrors.IsConflict(err) && pinned && !versionGiven {
			// The pod changed since it was judged: the client should ask again.
			return nil, core.BudgetBusy(budget)
		}
		return nil, err
	}
	return success, nil
}

func pinVersion(opts *metav1.DeleteOptions, rv string) *metav1.DeleteOptions {
	out := opts.DeepCopy()
	if out.Preconditions == nil {
		out.Preconditions = &metav1.Preconditions{}
	}
	out.Preconditions.ResourceVersion = &rv
	return out
}

func (s *Server) getPod(ctx context.Context, pods *registry.Resource, ns, name string) (*corev1.Pod, error) {
	obj, err := pods.Store.Get(ctx, pods.Store.Key(ns, name), name, storage.ReadOptions{})
	if err != nil {
		return nil, err
	}
	served, err := toServed(pods, obj)
	if err != nil {
		return nil, err
	}
	pod, ok := served.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("stored pod %s/%s is a %T", ns, name, served)
	}
	return pod, nil
}

// budgetsCovering lists the budgets of the pod's namespace that select it.
func (s *Server) budgetsCovering(ctx context.Context, pod *corev1.Pod) ([]*policyv1.PodDisruptionBudget, error) {
	res := s.cfg.Registry.Get(pdbGVR)
	if res == nil || res.Store == nil {
		return nil, nil
	}
	list, err := res.Store.List(ctx, storage.ListOptions{Namespace: pod.Namespace})
	if err != nil {
		return nil, err
	}
	var all []*policyv1.PodDisruptionBudget
	for _, obj := range list.Items {
		served, err := toServed(res, obj)
		if err != nil {
			return nil, err
		}
		if pdb, ok := served.(*policyv1.PodDisruptionBudget); ok {
			all = append(all, pdb)
		}
	}
	return core.BudgetsCovering(all, pod), nil
}

// spendBudget takes one disruption from a budget, reading it again when it
// changed meanwhile; a refusal is upstream's 429 or 403.
func (s *Server) spendBudget(ctx context.Context, pdb *policyv1.PodDisruptionBudget, pod string, dryRun bool, manager string) error {
	res := s.cfg.Registry.Get(pdbGVR)
	err := retry.RetryOnConflict(evictionRetry, func() error {
		updated, err := core.SpendBudget(pdb, pod, time.Now(), dryRun)
		if err != nil || updated == nil {
			return err
		}
		_, _, err = s.updateObject(ctx, res, pdb.Namespace, pdb.Name, "status", false, updateRules{subresource: "status"},
			writeOptions{manager: manager}, func(context.Context, runtime.Object) (runtime.Object, error) { return updated.DeepCopy(), nil })
		if !apierrors.IsConflict(err) {
			return err
		}
		obj, gerr := res.Store.Get(ctx, res.Store.Key(pdb.Namespace, pdb.Name), pdb.Name, storage.ReadOptions{})
		if gerr != nil {
			return gerr
		}
		served, gerr := toServed(res, obj)
		if gerr != nil {
			return gerr
		}
		pdb = served.(*policyv1.PodDisruptionBudget)
		return err
	})
	if errors.Is(err, wait.ErrWaitTimeout) || apierrors.IsConflict(err) {
		return apierrors.NewTimeoutError(fmt.Sprintf("couldn't update PodDisruptionBudget %q due to conflicts", pdb.Name), 10)
	}
	return err
}

// evictPod marks the pod with the DisruptionTarget condition (not in a dry
// run), checking the delete preconditions against it, then deletes it.
func (s *Server) evictPod(ctx context.Context, pods *registry.Resource, ns, name string, opts *metav1.DeleteOptions, manager string) error {
	if len(opts.DryRun) == 0 {
		podGR := schema.GroupResource{Resource: "Pod"}
		out, _, err := s.updateObject(ctx, pods, ns, name, "status", false, updateRules{subresource: "status", unconditional: true},
			writeOptions{manager: manager}, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
				pod := existing.(*corev1.Pod)
				if p := opts.Preconditions; p != nil {
					if p.UID != nil && *p.UID != "" && *p.UID != pod.UID {
						return nil, apierrors.NewConflict(podGR, name, fmt.Errorf("the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *p.UID, pod.UID))
					}
					if p.ResourceVersion != nil && *p.ResourceVersion != "" && *p.ResourceVersion != pod.ResourceVersion {
						return nil, apierrors.NewConflict(podGR, name, fmt.Errorf("the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *p.ResourceVersion, pod.ResourceVersion))
					}
				}
				core.SetEvictionCondition(pod, time.Now())
				return pod, nil
			})
		if err != nil {
			return err
		}
		if opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil {
			// Our own write moved the version on.
			opts = pinVersion(opts, out.(metav1.Object).GetResourceVersion())
		}
	}
	_, _, err := s.deleteObject(ctx, pods, ns, name, opts)
	return err
}
