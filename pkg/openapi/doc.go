// Package openapi serves the OpenAPI documents of the resources in a registry as
// upstream's kube-apiserver does: /openapi/v2 (swagger 2.0, as JSON or gnostic
// protobuf) and /openapi/v3 (an index plus one document per group version).
//
// The schemas of the types come from definitions.json.gz, generated from the Go
// sources of k8s.io/api and k8s.io/apimachinery by kube-openapi's openapi-gen; to
// regenerate it after a k8s.io/api upgrade:
//
//	go generate ./pkg/openapi
//
// The paths are derived at run time from the registry, so a resource added to it
// appears without regenerating anything, as long as its type is in k8s.io/api.
// Documents are built on the first request, not at start, and only their encoded
// (gzip-compressed) bytes are kept.
package openapi

//go:generate ../../hack/openapi/generate.sh
