package bootstrappolicy

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func role(namespace, name string, rules ...rbacv1.PolicyRule) rbacv1.Role {
	return rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Rules: rules}
}

func roleBinding(namespace, name, roleName string, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleName}, Subjects: subjects}
}

// NamespaceRoles are the Roles in kube-system and kube-public.
func NamespaceRoles() []rbacv1.Role {
	leaderLocking := func(component string) rbacv1.Role {
		return role("kube-system", "system::leader-locking-"+component,
			on(verbs("watch"), core, "configmaps"),
			named(on(verbs("get", "update"), core, "configmaps"), component),
			on(verbs("get", "watch", "list", "create", "update"), coordination, "leases"),
			on(verbs("get", "watch", "list", "create", "update"), coordination, "leasecandidates"))
	}
	roles := []rbacv1.Role{
		role("kube-system", "extension-apiserver-authentication-reader",
			named(on(verbs("get", "list", "watch"), core, "configmaps"), "extension-apiserver-authentication")),
		role("kube-system", ControllerRolePrefix+"bootstrap-signer",
			on(verbs("get", "list", "watch"), core, "secrets")),
		role("kube-system", ControllerRolePrefix+"cloud-provider",
			on(verbs("create", "get", "list", "watch"), core, "configmaps")),
		role("kube-system", ControllerRolePrefix+"token-cleaner",
			on(verbs("get", "list", "watch", "delete"), core, "secrets"),
			eventsRule()),
		leaderLocking("kube-controller-manager"),
		leaderLocking("kube-scheduler"),
		role("kube-public", ControllerRolePrefix+"bootstrap-signer",
			on(verbs("get", "list", "watch"), core, "configmaps"),
			named(on(verbs("update"), core, "configmaps"), "cluster-info"),
			eventsRule()),
	}
	for i := range roles {
		addDefaultMetadata(&roles[i].ObjectMeta)
	}
	return roles
}

// NamespaceRoleBindings bind them.
func NamespaceRoleBindings() []rbacv1.RoleBinding {
	bindings := []rbacv1.RoleBinding{
		roleBinding("kube-system", "system::extension-apiserver-authentication-reader", "extension-apiserver-authentication-reader",
			user(UserKubeControllerManager), user(UserKubeScheduler)),
		roleBinding("kube-system", "system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager",
			user(UserKubeControllerManager), serviceAccount("kube-system", "kube-controller-manager"),
			serviceAccount("kube-system", "leader-election-controller")),
		roleBinding("kube-system", "system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler",
			user(UserKubeScheduler), serviceAccount("kube-system", "kube-scheduler")),
		roleBinding("kube-system", ControllerRolePrefix+"bootstrap-signer", ControllerRolePrefix+"bootstrap-signer",
			serviceAccount("kube-system", "bootstrap-signer")),
		roleBinding("kube-system", ControllerRolePrefix+"cloud-provider", ControllerRolePrefix+"cloud-provider",
			serviceAccount("kube-system", "cloud-provider")),
		roleBinding("kube-system", ControllerRolePrefix+"token-cleaner", ControllerRolePrefix+"token-cleaner",
			serviceAccount("kube-system", "token-cleaner")),
		roleBinding("kube-public", ControllerRolePrefix+"bootstrap-signer", ControllerRolePrefix+"bootstrap-signer",
			serviceAccount("kube-system", "bootstrap-signer")),
	}
	for i := range bindings {
		addDefaultMetadata(&bindings[i].ObjectMeta)
	}
	return bindings
}
