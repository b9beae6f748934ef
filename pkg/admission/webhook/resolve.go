package webhook

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// ServiceResolver turns a webhook's service reference into an address to dial.
type ServiceResolver interface {
	Resolve(ctx context.Context, namespace, name string, port int32) (string, error)
}

var (
	servicesGVR       = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	endpointSlicesGVR = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

// EndpointResolver dials a ready endpoint of the service, as upstream's
// API server does with --enable-aggregator-routing: it needs no service
// proxy on the API server's host. An ExternalName service is dialled by its
// name; a service without selector-made slices falls back to its ClusterIP.
type EndpointResolver struct{ Objects admission.Objects }

// Resolve implements ServiceResolver.
func (r EndpointResolver) Resolve(ctx context.Context, namespace, name string, port int32) (string, error) {
	got, err := r.Objects.Get(ctx, servicesGVR, namespace, name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("service %q not found", namespace+"/"+name)
		}
		return "", fmt.Errorf("get service %s/%s: %w", namespace, name, err)
	}
	svc, ok := got.(*corev1.Service)
	if !ok {
		return "", fmt.Errorf("service %s/%s: unexpected %T", namespace, name, got)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port))), nil
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
			break
		}
	}
	if sp == nil {
		return "", fmt.Errorf("no service port %d found for service %q", port, name)
	}
	slices, err := r.Objects.List(ctx, endpointSlicesGVR, namespace)
	if err != nil {
		return "", fmt.Errorf("list endpoint slices of service %s/%s: %w", namespace, name, err)
	}
	sawSlice := false
	for _, o := range slices {
		es, ok := o.(*discoveryv1.EndpointSlice)
		if !ok || es.Labels[discoveryv1.LabelServiceName] != name {
			continue
		}
		sawSlice = true
		target := int32(0)
		for _, p := range es.Ports {
			if p.Port != nil && (p.Name == nil && sp.Name == "" || p.Name != nil && *p.Name == sp.Name) {
				target = *p.Port
				break
			}
		}
		if target == 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 {
				continue
			}
			return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(target))), nil
		}
	}
	if !sawSlice && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(port))), nil
	}
	return "", fmt.Errorf("service \"%s/%s\" has no ready endpoints", namespace, name)
}
