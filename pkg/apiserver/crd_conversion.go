package apiserver

import (
	"context"
	"errors"
	"net/url"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
		var from schema.GroupVersionKind
		if len(objs) > 0 {
			from = schema.FromAPIVersionAndKind(objs[0].GetAPIVersion(), objs[0].GetKind())
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
