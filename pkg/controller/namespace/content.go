package namespace

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
)

// finalizerEstimateSeconds is how long objects held by finalizers are expected
// to take, as upstream guesses.
const finalizerEstimateSeconds = 15

var podsResource = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// ContentDeleter deletes the namespaced objects of a namespace through the
// metadata client, one resource at a time as discovery lists them.
type ContentDeleter struct {
	// Resources lists the server's namespaced resources (discovery's
	// ServerPreferredNamespacedResources).
	Resources func() ([]*metav1.APIResourceList, error)
	Metadata  metadata.Interface
	// PodGrace returns the longest termination grace period of the namespace's
	// running pods, for the estimate of how long they take to go.
	PodGrace func(ctx context.Context, namespace string) (int64, error)
	Now      func() time.Time
}

// resource is one deletable resource and the verbs it supports.
type resource struct {
	gvr   schema.GroupVersionResource
	verbs sets.Set[string]
}

// deletable turns discovery's lists into the resources that can be deleted.
func deletable(lists []*metav1.APIResourceList) ([]resource, error) {
	var out []resource
	var errs []error
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			errs = append(errs, fmt.Errorf("couldn't parse GroupVersion %q: %w", list.GroupVersion, err))
			continue
		}
		for _, r := range list.APIResources {
			verbs := sets.New(r.Verbs...)
			if !verbs.Has("delete") {
				continue
			}
			out = append(out, resource{gvr: gv.WithResource(r.Name), verbs: verbs})
		}
	}
	return out, errors.Join(errs...)
}

// deleteAll deletes what it can of ns's content and reports what remains. Pods
// go first: while any remain, nothing else is deleted, so that controllers and
// the objects pods use (secrets, config maps, service accounts) outlive them.
func (d *ContentDeleter) deleteAll(ctx context.Context, ns *corev1.Namespace) pass {
	p := pass{remaining: map[schema.GroupVersionResource]int{}, finalizers: map[string]int{}}
	lists, err := d.Resources()
	if err != nil {
		p.discoveryErr = err
	}
	resources, err := deletable(lists)
	if err != nil {
		p.parseErr = err
	}
	deletedAt := ns.DeletionTimestamp.Time
	for _, r := range resources {
		if r.gvr == podsResource {
			d.deleteResource(ctx, r, ns.Name, deletedAt, &p)
			if p.remaining[podsResource] > 0 {
				return p
			}
		}
	}
	for _, r := range resources {
		if r.gvr != podsResource {
			d.deleteResource(ctx, r, ns.Name, deletedAt, &p)
		}
	}
	return p
}

// deleteResource deletes one resource's objects in ns and adds what remains to p.
func (d *ContentDeleter) deleteResource(ctx context.Context, r resource, ns string, deletedAt time.Time, p *pass) {
	var estimate int64
	if r.gvr == podsResource && d.PodGrace != nil {
		grace, err := d.PodGrace(ctx, ns)
		if err != nil {
			p.deleteErrs = append(p.deleteErrs, fmt.Errorf("estimate pod termination in %s: %w", ns, err))
			return
		}
		// Past the longest grace period since the namespace was deleted, pods are late, not pending.
		if d.Now().Sub(deletedAt) < time.Duration(grace)*time.Second {
			estimate = grace
		}
	}
	client := d.Metadata.Resource(r.gvr).Namespace(ns)
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	collectionDone := false
	if r.verbs.Has("deletecollection") {
		err := client.DeleteCollection(ctx, opts, metav1.ListOptions{})
		switch {
		case err == nil:
			collectionDone = true
		case !apierrors.IsMethodNotSupported(err) && !apierrors.IsNotFound(err):
			p.deleteErrs = append(p.deleteErrs, fmt.Errorf("delete %s in %s: %w", r.gvr.GroupResource(), ns, err))
			p.estimate = max(p.estimate, estimate)
			return
		}
	}
	if !r.verbs.Has("list") {
		return
	}
	items, err := client.List(ctx, metav1.ListOptions{})
	if apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err) {
		return
	}
	if err != nil {
		p.deleteErrs = append(p.deleteErrs, fmt.Errorf("list %s in %s: %w", r.gvr.GroupResource(), ns, err))
		p.estimate = max(p.estimate, estimate)
		return
	}
	if !collectionDone {
		for _, it := range items.Items {
			if it.DeletionTimestamp != nil {
				continue
			}
			if err := client.Delete(ctx, it.Name, opts); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
				p.deleteErrs = append(p.deleteErrs, fmt.Errorf("delete %s %s/%s: %w", r.gvr.GroupResource(), ns, it.Name, err))
				p.estimate = max(p.estimate, estimate)
				return
			}
		}
		// Look again: what was just deleted without finalizers is gone.
		if items, err = client.List(ctx, metav1.ListOptions{}); err != nil {
			p.deleteErrs = append(p.deleteErrs, fmt.Errorf("list %s in %s: %w", r.gvr.GroupResource(), ns, err))
			return
		}
	}
	left, err := remainder(r.gvr, ns, items.Items, estimate)
	if err != nil {
		p.deleteErrs = append(p.deleteErrs, err)
	}
	if left.count > 0 {
		p.remaining[r.gvr] += left.count
		for f, n := range left.finalizers {
			p.finalizers[f] += n
		}
	}
	p.estimate = max(p.estimate, left.estimate)
}

// left is what remains of one resource after its deletion was asked for.
type left struct {
	count      int
	finalizers map[string]int
	estimate   int64
}

// remainder judges the objects still listed after deletion: waiting on a grace
// period or on finalizers is expected (with an estimate); anything else is an error.
func remainder(gvr schema.GroupVersionResource, ns string, items []metav1.PartialObjectMetadata, graceEstimate int64) (left, error) {
	if len(items) == 0 {
		return left{}, nil
	}
	l := left{count: len(items), finalizers: map[string]int{}}
	for _, it := range items {
		for _, f := range it.Finalizers {
			l.finalizers[f]++
		}
	}
	switch {
	case graceEstimate > 0:
		l.estimate = graceEstimate
	case len(l.finalizers) > 0:
		l.estimate = finalizerEstimateSeconds
	default:
		return l, fmt.Errorf("unexpected items still remain in namespace: %s for gvr: %v", ns, gvr)
	}
	return l, nil
}

// PodGraceFromAPI lists the namespace's pods and returns the longest grace
// period among those still running, as upstream estimates pod termination.
func PodGraceFromAPI(pods corev1client.PodsGetter) func(ctx context.Context, namespace string) (int64, error) {
	return func(ctx context.Context, namespace string) (int64, error) {
		list, err := pods.Pods(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		return longestGrace(list.Items), nil
	}
}

// longestGrace is the longest terminationGracePeriodSeconds of pods not yet finished.
func longestGrace(pods []corev1.Pod) int64 {
	var out int64
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if g := p.Spec.TerminationGracePeriodSeconds; g != nil && *g > out {
			out = *g
		}
	}
	return out
}
