package apiserver

import (
	"net/http"

	"github.com/minik8s/minik8s/pkg/openapi"
)

// serveOpenAPI answers /openapi/v2 and /openapi/v3/... from the specs generated at
// build time from k8s.io/api.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) { openapi.Handler().ServeHTTP(w, r) }
