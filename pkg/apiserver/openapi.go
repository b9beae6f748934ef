package apiserver

import (
	"github.com/minik8s/minik8s/pkg/openapi"
)

// newOpenAPI returns the handler of /openapi/v2 and /openapi/v3/...: documents
// built on first request from the registry's resources and the schemas generated
// at build time from k8s.io/api.
func newOpenAPI(cfg Config) (*openapi.Service, error) {
	return openapi.New(openapi.Config{Registry: cfg.Registry, Logger: cfg.Logger})
}
