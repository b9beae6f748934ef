package bootstrappolicy

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What minik8s adds to upstream's policy, for what minik8s does its own way.
const (
	// NodeJoinRole lets holders of the join token fetch node credentials
	// (k3s's way of joining, where upstream's kubelets send a CSR).
	NodeJoinRole = "system:minik8s:node-join"
	// NodeCredentialsPath is where a joining node asks for its credentials.
	NodeCredentialsPath = "/v1-minik8s/node-credentials"
	// GroupBootstrappers is the group of callers presenting the join token.
	GroupBootstrappers = "system:bootstrappers"
	// NetworkPolicyRole lets the node's policy enforcer, which runs beside the
	// service proxy with its identity, watch what it enforces (k3s gives its
	// policy controller a role of its own the same way).
	NetworkPolicyRole = "system:minik8s:network-policy"
	// NodeAutoApproveRotationBinding lets every node have its renewal CSRs
	// approved by the csrapproving controller, as kubeadm's
	// kubeadm:node-autoapprove-certificate-rotation binding does.
	NodeAutoApproveRotationBinding = "system:minik8s:node-autoapprove-certificate-rotation"
)

// Minik8sClusterRoles are the cluster roles minik8s adds.
func Minik8sClusterRoles() []rbacv1.ClusterRole {
	return withDefaultMetadata([]rbacv1.ClusterRole{
		clusterRole(NodeJoinRole, nil, paths(verbs("post"), NodeCredentialsPath)),
		clusterRole(NetworkPolicyRole, nil,
			on(verbs("list", "watch"), core, "pods", "namespaces"),
			on(verbs("list", "watch"), networking, "networkpolicies")),
	})
}

// Minik8sClusterRoleBindings bind them.
func Minik8sClusterRoleBindings() []rbacv1.ClusterRoleBinding {
	return withDefaultBindingMetadata([]rbacv1.ClusterRoleBinding{
		clusterBinding(NodeJoinRole, group(GroupBootstrappers)),
		clusterBinding(NetworkPolicyRole, user(UserKubeProxy)),
		{ObjectMeta: metav1.ObjectMeta{Name: NodeAutoApproveRotationBinding},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"},
			Subjects: []rbacv1.Subject{group("system:nodes")}},
	})
}
