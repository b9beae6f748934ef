// Package cri is the node agent's client of a CRI runtime (containerd): a thin
// typed layer over the k8s.io/cri-api runtime and image services that gives every
// call a deadline and every error the call and object it was about.
//
// Errors keep their gRPC status, so callers can test them with status.Code or
// IsNotFound.
package cri
