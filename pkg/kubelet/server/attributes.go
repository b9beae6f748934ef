package server

import (
	"net/http"
	"strings"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// verbOf is the API verb upstream's kubelet checks for an HTTP method; other
// methods (HEAD, OPTIONS) check the empty verb, which only a "*" rule grants.
func verbOf(method string) string {
	switch method {
	case http.MethodGet:
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return ""
}

// subresourcesOf maps a path to the nodes subresources upstream's kubelet
// (v1.34, KubeletFineGrainedAuthz on) checks, in order; any one allowed lets
// the request in. A path without its own subresource needs nodes/proxy, which
// is also the fallback of the fine-grained ones so older roles keep working.
func subresourcesOf(path string) []string {
	var subs []string
	switch {
	case underPath(path, "/pods"), underPath(path, "/runningpods/"):
		subs = append(subs, "pods")
	case underPath(path, "/healthz"):
		subs = append(subs, "healthz")
	case underPath(path, "/configz"):
		subs = append(subs, "configz")
	}
	switch {
	case underPath(path, "/stats/"):
		subs = append(subs, "stats")
	case underPath(path, "/metrics"):
		subs = append(subs, "metrics")
	case underPath(path, "/logs/"):
		subs = append(subs, "log")
	case underPath(path, "/checkpoint/"):
		subs = append(subs, "checkpoint")
	case underPath(path, "/statusz"):
		subs = append(subs, "statusz")
	case underPath(path, "/flagz"):
		subs = append(subs, "configz")
	default:
		subs = append(subs, "proxy")
	}
	return subs
}

// underPath reports whether path is root or below it ("/metrics/resource" is
// under "/metrics", "/metricsx" is not); a trailing slash of root is ignored.
func underPath(path, root string) bool {
	root = strings.TrimSuffix(root, "/")
	return path == root || (strings.HasPrefix(path, root) && path[len(root)] == '/')
}

// requestAttributes are the checks a request to the node's API must pass, one
// per subresource: a cluster-scoped nodes request for this node's name.
func requestAttributes(u *auth.User, r *http.Request, nodeName string) []authorizer.Attributes {
	subs := subresourcesOf(r.URL.Path)
	attrs := make([]authorizer.Attributes, 0, len(subs))
	for _, sub := range subs {
		attrs = append(attrs, authorizer.Attributes{
			User: u, Verb: verbOf(r.Method), IsResource: true, Version: "v1",
			Resource: "nodes", Subresource: sub, Name: nodeName, Path: r.URL.Path,
		})
	}
	return attrs
}
