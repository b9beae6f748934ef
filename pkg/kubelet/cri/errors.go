package cri

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IsNotFound reports whether a call failed because the sandbox, container or
// image it named does not exist.
func IsNotFound(err error) bool {
	return status.Code(err) == codes.NotFound
}

// IsUnavailable reports whether the runtime could not be reached (not started
// yet, restarting, or its socket gone).
func IsUnavailable(err error) bool {
	return status.Code(err) == codes.Unavailable
}
