package bootstrappolicy

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/auth"
)

// Well-known users and groups the bindings name.
const (
	UserKubeProxy             = "system:kube-proxy"
	UserKubeControllerManager = "system:kube-controller-manager"
	UserKubeScheduler         = "system:kube-scheduler"
	GroupMonitoring           = "system:monitoring"
	GroupServiceAccounts      = "system:serviceaccounts"
)

func clusterBinding(role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func serviceAccount(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
}

// ClusterRoleBindings bind the cluster roles to the users and groups every
// cluster has.
func ClusterRoleBindings() []rbacv1.ClusterRoleBinding {
	return withDefaultBindingMetadata([]rbacv1.ClusterRoleBinding{
		clusterBinding("cluster-admin", group(auth.GroupMasters)),
		clusterBinding("system:monitoring", group(GroupMonitoring)),
		clusterBinding("system:discovery", group(auth.GroupAuthenticated)),
		clusterBinding("system:basic-user", group(auth.GroupAuthenticated)),
		clusterBinding("system:public-info-viewer", group(auth.GroupAuthenticated), group(auth.GroupUnauthenticated)),
		clusterBinding("system:node-proxier", user(UserKubeProxy)),
		clusterBinding("system:kube-controller-manager", user(UserKubeControllerManager)),
		clusterBinding("system:kube-dns", serviceAccount("kube-system", "kube-dns")),
		clusterBinding("system:kube-scheduler", user(UserKubeScheduler)),
		clusterBinding("system:volume-scheduler", user(UserKubeScheduler)),
		// Kept without subjects since the Node authorizer took over: nodes get
		// their rules from it, not from a binding.
		clusterBinding("system:node"),
		clusterBinding("system:service-account-issuer-discovery", group(GroupServiceAccounts)),
	})
}
