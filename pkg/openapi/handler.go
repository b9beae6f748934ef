// Package openapi serves the OpenAPI v2 and v3 documents of the built-in API.
package openapi

import "net/http"

// Handler serves /openapi/v2 and /openapi/v3.
func Handler() http.Handler { return http.NotFoundHandler() }
