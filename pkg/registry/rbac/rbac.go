// Package rbac describes the rbac.authorization.k8s.io/v1 resources: Roles,
// ClusterRoles and their bindings: names, validation, tables. The authorizer
// that enforces them is pkg/auth/authorizer/rbac.
package rbac

import (
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"

	"github.com/minik8s/minik8s/pkg/registry"
)

const group = "rbac.authorization.k8s.io"

// Resources returns every rbac.authorization.k8s.io/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{Roles(), RoleBindings(), ClusterRoles(), ClusterRoleBindings()}
}

// validName: RBAC names only need to be usable as one URL path segment, so
// names like "system:node" are fine.
func validName(name string, _ bool) []string { return pathvalidation.IsValidPathSegmentName(name) }
