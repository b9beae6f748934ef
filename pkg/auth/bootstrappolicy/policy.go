// Package bootstrappolicy is the RBAC policy every cluster starts with, as
// upstream's API server creates it: the user-facing roles (cluster-admin,
// admin, edit, view and their aggregation), the system:* roles of components
// and controllers, and their bindings. The server creates what is missing and
// adds what an older version lacked at every start, leaving alone objects
// annotated rbac.authorization.kubernetes.io/autoupdate=false.
//
// The contents follow upstream v1.34 with its default feature gates; the few
// objects that are minik8s's own are in minik8s.go.
package bootstrappolicy

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The label and annotation every bootstrap object carries.
const (
	BootstrappingLabel = "kubernetes.io/bootstrapping"
	BootstrappingValue = "rbac-defaults"
)

func addDefaultMetadata(m *metav1.ObjectMeta) {
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	m.Labels[BootstrappingLabel] = BootstrappingValue
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[rbacv1.AutoUpdateAnnotationKey] = "true"
}

func withDefaultMetadata(roles []rbacv1.ClusterRole) []rbacv1.ClusterRole {
	for i := range roles {
		addDefaultMetadata(&roles[i].ObjectMeta)
	}
	return roles
}

func withDefaultBindingMetadata(bindings []rbacv1.ClusterRoleBinding) []rbacv1.ClusterRoleBinding {
	for i := range bindings {
		addDefaultMetadata(&bindings[i].ObjectMeta)
	}
	return bindings
}

// Policy is the whole bootstrap policy.
type Policy struct {
	ClusterRoles        []rbacv1.ClusterRole
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	Roles               []rbacv1.Role
	RoleBindings        []rbacv1.RoleBinding
}

// Default is the policy a minik8s server keeps: upstream's, plus minik8s's own.
func Default() Policy {
	return Policy{
		ClusterRoles:        append(append(ClusterRoles(), ControllerRoles()...), Minik8sClusterRoles()...),
		ClusterRoleBindings: append(append(ClusterRoleBindings(), ControllerRoleBindings()...), Minik8sClusterRoleBindings()...),
		Roles:               NamespaceRoles(),
		RoleBindings:        NamespaceRoleBindings(),
	}
}
