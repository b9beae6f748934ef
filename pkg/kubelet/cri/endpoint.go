package cri

import (
	"fmt"
	"path/filepath"
	"strings"
)

// grpcTarget turns a CRI endpoint into a gRPC dial target. An endpoint is
// "unix:///path/to.sock", as kubelet's --container-runtime-endpoint takes it, or
// a bare absolute socket path.
func grpcTarget(endpoint string) (string, error) {
	path := endpoint
	if rest, ok := strings.CutPrefix(endpoint, "unix://"); ok {
		path = rest
	} else if strings.Contains(endpoint, "://") {
		return "", fmt.Errorf("CRI endpoint %q: only unix sockets are supported", endpoint)
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("CRI endpoint %q: socket path must be absolute", endpoint)
	}
	return "unix://" + path, nil
}

// SocketPath returns the file system path of a unix CRI endpoint.
func SocketPath(endpoint string) (string, error) {
	target, err := grpcTarget(endpoint)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(target, "unix://"), nil
}
