package apiserver

import (
	"context"
	"errors"
	"net/url"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/crdconversion"
	"github.com/minik8s/minik8s/pkg/registry"
)

// withConversionWebhook makes resources convert through crd's conversion
// webhook when its strategy is Webhook.
func (s *Server) withConversionWebhook(crd *apiextv1.CustomResourceDefinition, resources []*registry.Resource) error {
	wh, err := crdconversion.New(crd, s.resolveService)
	if err != nil || wh == nil {
		return err
	}
	convert := func(ctx context.Context, objs []*unstructured.Unstructured, apiVersion string) ([]*unstructured.Unstructured, error) {
		// Errors name the version converted from, as upstream's do.
		var from schema.GroupVersionKind
		for _, o := range objs {
			if o.GetAPIVersion() != apiVersion {
				from = schema.FromAPIVersionAndKind(o.GetAPIVersion(), o.GetKind())
				break
			}
		}
		return wh.Convert(ctx, objs, apiVersion, from)
	}
	for _, r := range resources {
		r.ConvertCustom = convert
	}
	return nil
}

// resolveService finds a Service's endpoint for a webhook.
func (s *Server) resolveService(namespace, name string, port int32) (*url.URL, error) {
	if s.cfg.Aggregator == nil {
		return nil, errors.New("no service resolver")
	}
	return s.cfg.Aggregator.ResolveService(namespace, name, port)
}

// toServedAll converts stored objects to the served version; a conversion
// webhook gets those of a list in one review.
func toServedAll(ctx context.Context, res *registry.Resource, items []runtime.Object) ([]runtime.Object, error) {
	out := make([]runtime.Object, len(items))
	if res.ConvertCustom != nil {
		us := make([]*unstructured.Unstructured, 0, len(items))
		for _, it := range items {
			if u, ok := it.(*unstructured.Unstructured); ok {
				us = append(us, u)
			}
		}
		if len(us) == len(items) {
			conv, err := res.ConvertCustom(ctx, us, res.GroupVersion().String())
			if err != nil {
				return nil, apierrors.NewInternalError(err)
			}
			for i, u := range conv {
				c := u.DeepCopy()
				c.SetAPIVersion(res.GroupVersion().String())
				res.Strategy.Default(c)
				out[i] = c
			}
			return out, nil
		}
	}
	for i, obj := range items {
		o, err := toServed(res, obj)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}
