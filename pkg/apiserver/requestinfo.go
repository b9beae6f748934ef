package apiserver

import (
	"net/http"
	"strings"
)

// requestInfo is what the URL and method say about an API request.
type requestInfo struct {
	// Resource is false for non-resource paths (/healthz, /version, discovery).
	IsResource  bool
	Verb        string // get, list, watch, create, update, patch, delete, deletecollection, connect
	APIPrefix   string // "api" or "apis"
	Group       string
	Version     string
	Namespace   string
	Resource    string
	Name        string
	Subresource string
	// Parts is the path after the resource, for subresources with more segments.
	Parts []string
}

// parseRequestInfo splits /api/v1/namespaces/ns/pods/name/status and friends.
func parseRequestInfo(r *http.Request) requestInfo {
	info := requestInfo{}
	path := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	if len(parts) < 2 {
		return info
	}
	switch parts[0] {
	case "api":
		info.APIPrefix = "api"
		info.Version = parts[1]
		parts = parts[2:]
	case "apis":
		if len(parts) < 3 {
			return info
		}
		info.APIPrefix = "apis"
		info.Group = parts[1]
		info.Version = parts[2]
		parts = parts[3:]
	default:
		return info
	}
	if len(parts) == 0 {
		return info
	}
	watchPath := false
	if parts[0] == "watch" {
		watchPath = true
		parts = parts[1:]
	}
	// /namespaces/{ns}/{resource}/...; but /namespaces/{name}[/status|/finalize]
	// is the namespace itself, as upstream parses it.
	if parts[0] == "namespaces" && len(parts) > 1 {
		info.Namespace = parts[1]
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		}
	}
	if len(parts) == 0 || parts[0] == "" {
		return info
	}
	info.IsResource = true
	info.Resource = parts[0]
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = parts[2]
		info.Parts = parts[3:]
	}
	if watchPath {
		info.Verb = "watch" // whatever the method, as upstream; only GET is served
		return info
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		// ?watch turns a list into a watch; a get of one object stays a get.
		switch {
		case info.Name != "":
			info.Verb = "get"
		case queryBool(r.URL.Query()["watch"]):
			info.Verb = "watch"
		default:
			info.Verb = "list"
		}
	case http.MethodPost:
		info.Verb = "create"
	case http.MethodPut:
		info.Verb = "update"
	case http.MethodPatch:
		info.Verb = "patch"
	case http.MethodDelete:
		if info.Name == "" {
			info.Verb = "deletecollection"
		} else {
			info.Verb = "delete"
		}
	default:
		// No verb, as upstream: only rules for every verb ("*") match it, and
		// no route serves it.
		info.Verb = ""
	}
	return info
}

func isTrue(s string) bool { return s == "true" || s == "1" }
