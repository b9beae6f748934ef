package bootstrappolicy

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Aggregation labels: a ClusterRole carrying one adds its rules to admin, edit
// or view.
const (
	AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

func clusterRole(name string, labels map[string]string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Rules: rules}
}

// aggregated is a ClusterRole whose rules are those of the ClusterRoles
// labelled selector=true; the aggregation controller fills them in.
func aggregated(name string, labels map[string]string, selector string) rbacv1.ClusterRole {
	r := clusterRole(name, labels)
	r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchLabels: map[string]string{selector: "true"}}}}
	return r
}

func label(key string) map[string]string { return map[string]string{key: "true"} }

// viewRules read what a namespace holds, but not Secrets nor anything that
// leads to them (exec, attach, port-forward, proxies).
func viewRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		on(read, core, "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"),
		on(read, core, "limitranges", "resourcequotas", "bindings", "events",
			"pods/status", "resourcequotas/status", "namespaces/status", "replicationcontrollers/status", "pods/log"),
		// Reading namespaces in a namespace means reading that namespace: it
		// tells a user which namespaces it has access to.
		on(read, core, "namespaces"),
		on(read, discovery, "endpointslices"),
		on(read, apps, "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
			"daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
			"replicasets", "replicasets/status", "replicasets/scale"),
		on(read, autoscaling, "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		on(read, batch, "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
		on(read, extensions, "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
			"ingresses", "ingresses/status", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
			"networkpolicies"),
		on(read, policy, "poddisruptionbudgets", "poddisruptionbudgets/status"),
		on(read, networking, "networkpolicies", "ingresses", "ingresses/status"),
		on(read, resource, "resourceclaims", "resourceclaims/status", "resourceclaimtemplates"),
	}
}

// editRules write what a namespace holds, and read Secrets; they do not grant
// roles, quotas or limits.
func editRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		on(read, core, "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
		on(verbs("impersonate"), core, "serviceaccounts"),
		on(write, core, "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
		on(verbs("create"), core, "pods/eviction"),
		on(write, core, "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"),
		on(verbs("create"), core, "serviceaccounts/token"),
		on(write, apps, "statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
			"deployments/rollback", "replicasets", "replicasets/scale"),
		on(write, autoscaling, "horizontalpodautoscalers"),
		on(write, batch, "jobs", "cronjobs"),
		on(write, extensions, "daemonsets", "deployments", "deployments/scale", "deployments/rollback", "ingresses",
			"replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"),
		on(write, policy, "poddisruptionbudgets"),
		on(write, networking, "networkpolicies", "ingresses"),
		on(readWrite, coordination, "leases"),
		on(write, resource, "resourceclaims", "resourceclaimtemplates"),
	}
}

// NodeRules are what a kubelet needs beyond the objects of its own pods. The
// Node authorizer grants them to nodes without a binding; NodeRestriction
// admission narrows the writes to the node's own objects.
func NodeRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		on(verbs("create"), authentication, "tokenreviews"),
		on(verbs("create"), authorization, "subjectaccessreviews", "localsubjectaccessreviews"),
		// Services, for the service environment variables of containers.
		on(read, core, "services"),
		on(verbs("create", "get", "list", "watch"), core, "nodes"),
		on(verbs("update", "patch"), core, "nodes/status"),
		on(verbs("update", "patch"), core, "nodes"),
		on(verbs("create", "update", "patch"), core, "events"),
		on(read, core, "pods"),
		// Mirror pods.
		on(verbs("create", "delete"), core, "pods"),
		on(verbs("update", "patch"), core, "pods/status"),
		on(verbs("create"), core, "pods/eviction"),
		on(verbs("get", "list", "watch"), core, "secrets", "configmaps"),
		on(verbs("get"), core, "persistentvolumeclaims", "persistentvolumes"),
		on(verbs("get"), core, "endpoints"),
		// Client certificate rotation.
		on(verbs("create", "get", "list", "watch"), certificates, "certificatesigningrequests"),
		on(verbs("get", "create", "update", "patch", "delete"), coordination, "leases"),
		on(verbs("get"), storage, "volumeattachments"),
		on(verbs("create"), core, "serviceaccounts/token"),
		on(verbs("get", "update", "patch"), core, "persistentvolumeclaims/status"),
		on(verbs("get", "watch", "list"), storage, "csidrivers"),
		on(verbs("get", "create", "update", "patch", "delete"), storage, "csinodes"),
		on(verbs("get", "list", "watch"), nodeGroup, "runtimeclasses"),
		on(verbs("get"), resource, "resourceclaims"),
		on(verbs("deletecollection"), resource, "resourceslices"),
		// Service account tokens for image credential providers.
		on(verbs("get"), core, "serviceaccounts"),
	}
}

// ClusterRoles are the ClusterRoles every cluster starts with (the controllers'
// are in ControllerRoles).
func ClusterRoles() []rbacv1.ClusterRole {
	roles := []rbacv1.ClusterRole{
		clusterRole("cluster-admin", nil,
			on(verbs("*"), "*", "*"),
			paths(verbs("*"), "*")),
		// Enough to find out whether the server is ready and what it serves.
		clusterRole("system:discovery", nil,
			paths(verbs("get"), "/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*",
				"/api", "/api/*", "/apis", "/apis/*")),
		clusterRole("system:monitoring", nil,
			paths(verbs("get"), "/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"),
			on(verbs("get"), core, "nodes/metrics")),
		// What any user may learn about itself.
		clusterRole("system:basic-user", nil,
			on(verbs("create"), authorization, "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			on(verbs("create"), authentication, "selfsubjectreviews")),
		// What anyone, even anonymous, may read.
		clusterRole("system:public-info-viewer", nil,
			paths(verbs("get"), "/livez", "/readyz", "/healthz", "/version", "/version/")),
		aggregated("admin", nil, AggregateToAdmin),
		aggregated("edit", label(AggregateToAdmin), AggregateToEdit),
		aggregated("view", label(AggregateToEdit), AggregateToView),
		clusterRole("system:aggregate-to-admin", label(AggregateToAdmin),
			on(verbs("create"), authorization, "localsubjectaccessreviews"),
			on(readWrite, rbac, "roles", "rolebindings")),
		clusterRole("system:aggregate-to-edit", label(AggregateToEdit), editRules()...),
		clusterRole("system:aggregate-to-view", label(AggregateToView), viewRules()...),
		clusterRole("system:heapster", nil,
			on(read, core, "events", "pods", "nodes", "namespaces"),
			on(read, extensions, "deployments")),
		clusterRole("system:node", nil, NodeRules()...),
		clusterRole("system:node-problem-detector", nil,
			on(verbs("get"), core, "nodes"),
			on(verbs("patch"), core, "nodes/status"),
			eventsRule()),
		clusterRole("system:node-bootstrapper", nil,
			on(verbs("create", "get", "list", "watch"), certificates, "certificatesigningrequests")),
		clusterRole("system:auth-delegator", nil,
			on(verbs("create"), authentication, "tokenreviews"),
			on(verbs("create"), authorization, "subjectaccessreviews")),
		clusterRole("system:kube-aggregator", nil,
			on(read, core, "services", "endpoints")),
		clusterRole("system:kube-controller-manager", nil,
			eventsRule(),
			on(verbs("create"), coordination, "leases"),
			named(on(verbs("get", "update"), coordination, "leases"), "kube-controller-manager"),
			on(verbs("create"), core, "secrets", "serviceaccounts"),
			on(verbs("delete"), core, "secrets"),
			on(verbs("get"), core, "namespaces", "secrets", "serviceaccounts", "configmaps"),
			on(verbs("update"), core, "secrets", "serviceaccounts"),
			on(verbs("create"), authentication, "tokenreviews"),
			on(verbs("create"), authorization, "subjectaccessreviews"),
			// Shared informers watch everything.
			on(verbs("list", "watch"), "*", "*"),
			on(verbs("create"), core, "serviceaccounts/token")),
		clusterRole("system:kube-dns", nil,
			on(verbs("list", "watch"), core, "endpoints", "services")),
		clusterRole("system:persistent-volume-provisioner", nil,
			on(verbs("get", "list", "watch", "create", "delete"), core, "persistentvolumes"),
			on(verbs("get", "list", "watch", "update"), core, "persistentvolumeclaims"),
			on(read, storage, "storageclasses"),
			on(verbs("watch"), core, "events"),
			eventsRule()),
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient", nil,
			on(verbs("create"), certificates, "certificatesigningrequests/nodeclient")),
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", nil,
			on(verbs("create"), certificates, "certificatesigningrequests/selfnodeclient")),
		clusterRole("system:volume-scheduler", nil,
			on(readUpdate, core, "persistentvolumes"),
			on(read, storage, "storageclasses"),
			on(readUpdate, core, "persistentvolumeclaims")),
		clusterRole("system:certificates.k8s.io:legacy-unknown-approver", nil,
			named(on(verbs("approve"), certificates, "signers"), "kubernetes.io/legacy-unknown")),
		clusterRole("system:certificates.k8s.io:kubelet-serving-approver", nil,
			named(on(verbs("approve"), certificates, "signers"), "kubernetes.io/kubelet-serving")),
		clusterRole("system:certificates.k8s.io:kube-apiserver-client-approver", nil,
			named(on(verbs("approve"), certificates, "signers"), "kubernetes.io/kube-apiserver-client")),
		clusterRole("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", nil,
			named(on(verbs("approve"), certificates, "signers"), "kubernetes.io/kube-apiserver-client-kubelet")),
		// The service account issuer's discovery document and keys, with and
		// without the trailing slash older clients ask for.
		clusterRole("system:service-account-issuer-discovery", nil,
			paths(verbs("get"), "/.well-known/openid-configuration", "/.well-known/openid-configuration/",
				"/openid/v1/jwks", "/openid/v1/jwks/")),
		clusterRole("system:kubelet-api-admin", nil,
			on(verbs("get", "list", "watch"), core, "nodes"),
			on(verbs("proxy"), core, "nodes"),
			on(verbs("*"), core, "nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log"),
			on(verbs("*"), core, "nodes/pods", "nodes/healthz", "nodes/configz")),
		// kube-proxy's role.
		clusterRole("system:node-proxier", nil,
			on(verbs("list", "watch"), core, "services", "endpoints"),
			on(verbs("get", "list", "watch"), core, "nodes"),
			eventsRule(),
			on(verbs("list", "watch"), networking, "servicecidrs"),
			on(verbs("list", "watch"), discovery, "endpointslices")),
		clusterRole("system:kube-scheduler", nil,
			eventsRule(),
			on(verbs("create"), coordination, "leases"),
			named(on(verbs("get", "update", "list", "watch"), coordination, "leases"), "kube-scheduler"),
			on(readWrite, coordination, "leasecandidates"),
			on(read, core, "nodes"),
			on(verbs("get", "list", "watch", "delete"), core, "pods"),
			on(verbs("create"), core, "pods/binding", "bindings"),
			on(verbs("patch", "update"), core, "pods/status"),
			on(read, core, "services", "replicationcontrollers"),
			onGroups(read, []string{apps, extensions}, "replicasets"),
			on(read, apps, "statefulsets"),
			on(read, policy, "poddisruptionbudgets"),
			on(read, core, "persistentvolumeclaims", "persistentvolumes"),
			on(verbs("create"), authentication, "tokenreviews"),
			on(verbs("create"), authorization, "subjectaccessreviews"),
			on(read, storage, "csinodes"),
			on(verbs("get", "list", "watch"), storage, "volumeattachments"),
			on(read, core, "namespaces"),
			on(read, storage, "csidrivers"),
			on(read, storage, "csistoragecapacities"),
			// Dynamic resource allocation.
			on(read, resource, "deviceclasses"),
			on(readUpdate, resource, "resourceclaims"),
			on(readUpdate, resource, "resourceclaims/status"),
			on(verbs("update"), core, "pods/finalizers"),
			on(read, resource, "resourceslices")),
	}
	return withDefaultMetadata(roles)
}
