package aggregator

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// watch enqueues the APIServices an event concerns.
func (a *Aggregator) watch(apiServices, services, slices cache.SharedIndexInformer) {
	enqueue := func(obj interface{}) {
		if s, ok := worker.Object[*apiregistrationv1.APIService](obj); ok {
			a.queue.Add(s.Name)
		}
	}
	_, _ = apiServices.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	bySvc := func(namespace, name string) {
		list, err := a.apiService.List(everything)
		if err != nil {
			return
		}
		for _, s := range list {
			if s.Spec.Service != nil && s.Spec.Service.Namespace == namespace && s.Spec.Service.Name == name {
				a.queue.Add(s.Name)
			}
		}
	}
	onService := func(obj interface{}) {
		if s, ok := worker.Object[*corev1.Service](obj); ok {
			bySvc(s.Namespace, s.Name)
		}
	}
	_, _ = services.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onService, UpdateFunc: func(_, obj interface{}) { onService(obj) }, DeleteFunc: onService,
	})
	onSlice := func(obj interface{}) {
		if s, ok := worker.Object[*discoveryv1.EndpointSlice](obj); ok && s.Labels[discoveryv1.LabelServiceName] != "" {
			bySvc(s.Namespace, s.Labels[discoveryv1.LabelServiceName])
		}
	}
	_, _ = slices.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onSlice, UpdateFunc: func(_, obj interface{}) { onSlice(obj) }, DeleteFunc: onSlice,
	})
}

func (a *Aggregator) runAvailability(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{
		Name: "apiservice-availability", Queue: a.queue, Synced: a.synced, Workers: 2,
		Sync: a.sync, Log: a.log,
	})
}

// sync checks one APIService that names a Service and records the result in
// its Available condition; the discovery document fetched by the check is
// kept for /apis.
func (a *Aggregator) sync(ctx context.Context, name string) error {
	orig, err := a.apiService.Get(name)
	if apierrors.IsNotFound(err) {
		a.forget(name)
		return nil
	}
	if err != nil {
		return err
	}
	if orig.Spec.Service == nil {
		// Local: the server's own, marked available at start.
		a.forget(name)
		return nil
	}
	ref := orig.Spec.Service
	svc, svcErr := a.services.Services(ref.Namespace).Get(ref.Name)
	var slices []*discoveryv1.EndpointSlice
	var slicesErr error
	if svcErr == nil {
		slices, slicesErr = a.slices.GetEndpointSlices(ref.Namespace, ref.Name)
	}
	cond := serviceCondition(orig, svc, svcErr, slices, slicesErr)
	var checkErr error
	if cond == nil {
		doc, err := a.checkDiscovery(ctx, orig)
		if err != nil {
			checkErr = err
			cond = &apiregistrationv1.APIServiceCondition{Status: apiregistrationv1.ConditionFalse,
				Reason: "FailedDiscoveryCheck", Message: err.Error()}
		} else {
			a.remember(orig, doc)
			cond = &apiregistrationv1.APIServiceCondition{Status: apiregistrationv1.ConditionTrue,
				Reason: "Passed", Message: "all checks passed"}
		}
	}
	if cond.Status != apiregistrationv1.ConditionTrue {
		a.forget(name)
	}
	if err := a.updateCondition(ctx, orig, *cond); err != nil {
		return err
	}
	if checkErr != nil {
		// Retried with back-off, on Service and endpoint changes, and at
		// least every resync period (upstream's informer resync).
		a.queue.AddAfter(name, a.cfg.Resync)
		return worker.Quiet(checkErr)
	}
	return worker.RequeueAfter(a.cfg.Resync)
}

// serviceCondition judges the Service behind an APIService as upstream's
// availability controller does before it calls the server; nil means the
// Service looks usable and the discovery check decides.
func serviceCondition(s *apiregistrationv1.APIService, svc *corev1.Service, svcErr error,
	slices []*discoveryv1.EndpointSlice, slicesErr error) *apiregistrationv1.APIServiceCondition {
	ref := s.Spec.Service
	fail := func(status apiregistrationv1.ConditionStatus, reason, format string, args ...interface{}) *apiregistrationv1.APIServiceCondition {
		return &apiregistrationv1.APIServiceCondition{Status: status, Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case apierrors.IsNotFound(svcErr):
		return fail(apiregistrationv1.ConditionFalse, "ServiceNotFound", "service/%s in %q is not present", ref.Name, ref.Namespace)
	case svcErr != nil:
		return fail(apiregistrationv1.ConditionUnknown, "ServiceAccessError", "service/%s in %q cannot be checked due to: %v", ref.Name, ref.Namespace, svcErr)
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP {
		return nil
	}
	port := int32(443)
	if ref.Port != nil {
		port = *ref.Port
	}
	portName, found := "", false
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			portName, found = p.Name, true
			break
		}
	}
	switch {
	case !found:
		return fail(apiregistrationv1.ConditionFalse, "ServicePortError", "service/%s in %q is not listening on port %d", ref.Name, ref.Namespace, port)
	case slicesErr != nil:
		return fail(apiregistrationv1.ConditionUnknown, "EndpointsAccessError", "service/%s in %q cannot be checked due to: %v", ref.Name, ref.Namespace, slicesErr)
	case len(slices) == 0:
		return fail(apiregistrationv1.ConditionFalse, "EndpointsNotFound", "cannot find endpointslices for service/%s in %q", ref.Name, ref.Namespace)
	case !hasReadyEndpoint(portName, slices):
		return fail(apiregistrationv1.ConditionFalse, "MissingEndpoints", "endpointslices for service/%s in %q have no addresses with port name %q", ref.Name, ref.Namespace, portName)
	}
	return nil
}

// hasReadyEndpoint reports whether a slice has a ready address on the named port.
func hasReadyEndpoint(portName string, slices []*discoveryv1.EndpointSlice) bool {
	for _, s := range slices {
		hasPort := false
		for _, p := range s.Ports {
			if p.Name != nil && *p.Name == portName {
				hasPort = true
				break
			}
		}
		if !hasPort {
			continue
		}
		for _, e := range s.Endpoints {
			if len(e.Addresses) > 0 && (e.Conditions.Ready == nil || *e.Conditions.Ready) {
				return true
			}
		}
	}
	return false
}

// updateCondition writes the Available condition when it says something new;
// its transition time moves only when its status changes.
func (a *Aggregator) updateCondition(ctx context.Context, orig *apiregistrationv1.APIService, cond apiregistrationv1.APIServiceCondition) error {
	cond.Type = apiregistrationv1.Available
	s := orig.DeepCopy()
	found := false
	for i, c := range s.Status.Conditions {
		if c.Type != apiregistrationv1.Available {
			continue
		}
		found = true
		if c.Status == cond.Status && c.Reason == cond.Reason && c.Message == cond.Message {
			return nil
		}
		cond.LastTransitionTime = c.LastTransitionTime
		if c.Status != cond.Status {
			cond.LastTransitionTime = metav1.NewTime(time.Now())
		}
		s.Status.Conditions[i] = cond
	}
	if !found {
		cond.LastTransitionTime = metav1.NewTime(time.Now())
		s.Status.Conditions = append(s.Status.Conditions, cond)
	}
	if _, err := a.agg.ApiregistrationV1().APIServices().UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status of APIService %s: %w", s.Name, err)
	}
	return nil
}
