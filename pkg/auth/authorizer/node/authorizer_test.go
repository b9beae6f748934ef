package node

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/auth/bootstrappolicy"
)

// webPod runs on n1 and uses every kind of reference a pod can make.
func webPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web", UID: "uid-web"},
		Spec: corev1.PodSpec{
			NodeName:           "n1",
			ServiceAccountName: "builder",
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "regcred"}},
			Containers: []corev1.Container{{
				Name:    "c",
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
				Env: []corev1.EnvVar{{Name: "PW", ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "pw"}}}},
			}},
			Volumes: []corev1.Volume{
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls"}}},
				{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
				}}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
				{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
			},
		},
	}
}

func otherPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "other"},
		Spec: corev1.PodSpec{NodeName: "n2", ServiceAccountName: "default",
			Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "other-secret"}}}}},
	}
}

func fixture() (*Authorizer, *Graph) {
	g := NewGraph()
	g.Update(webPod())
	g.Update(otherPod())
	g.Update(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "pending"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "pending-secret"}}}}}})
	g.Update(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv1"}, Spec: corev1.PersistentVolumeSpec{
		ClaimRef: &corev1.ObjectReference{Namespace: "app", Name: "data"},
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "d", VolumeHandle: "h",
			NodePublishSecretRef: &corev1.SecretReference{Name: "csi-secret"}}}}})
	g.Update(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv2"}, Spec: corev1.PersistentVolumeSpec{
		ClaimRef: &corev1.ObjectReference{Namespace: "app", Name: "elsewhere"}}})
	g.Update(&storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "va1"}, Spec: storagev1.VolumeAttachmentSpec{NodeName: "n1"}})
	return New(g, bootstrappolicy.NodeRules()), g
}

var n1 = &auth.User{Name: "system:node:n1", Groups: []string{Group, auth.GroupAuthenticated}}

func req(verb, group, resource, sub, ns, name string) authorizer.Attributes {
	return authorizer.Attributes{User: n1, Verb: verb, IsResource: true, Group: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func withSelector(a authorizer.Attributes, sel string) authorizer.Attributes {
	a.FieldSelector = sel
	return a
}

const noRelation = "no relationship found between node 'n1' and this object"

// TestWhatTheAgentAsks goes through every request the node agent makes
// (pkg/kubelet): each must be allowed for its own node's objects.
func TestWhatTheAgentAsks(t *testing.T) {
	a, _ := fixture()
	allowed := []struct {
		name  string
		attrs authorizer.Attributes
	}{
		{"register its Node", req("create", "", "nodes", "", "", "")},
		{"read its Node", req("get", "", "nodes", "", "", "n1")},
		{"update its Node's labels", req("update", "", "nodes", "", "", "n1")},
		{"report its Node's status", req("update", "", "nodes", "status", "", "n1")},
		{"watch its Node by metadata.name (the name the field selector gives)", req("watch", "", "nodes", "", "", "n1")},
		{"read its Lease", req("get", "coordination.k8s.io", "leases", "", "kube-node-lease", "n1")},
		{"create its Lease", req("create", "coordination.k8s.io", "leases", "", "kube-node-lease", "")},
		{"renew its Lease", req("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n1")},
		{"record events", req("create", "", "events", "", "app", "")},
		{"patch events into a series", req("patch", "", "events", "", "app", "web.1")},
		{"list services for environment variables", req("list", "", "services", "", "", "")},
		{"watch services", req("watch", "", "services", "", "", "")},
		{"list its pods by spec.nodeName", withSelector(req("list", "", "pods", "", "", ""), "spec.nodeName=n1")},
		{"watch its pods by spec.nodeName", withSelector(req("watch", "", "pods", "", "", ""), "spec.nodeName=n1")},
		{"get one of its pods", req("get", "", "pods", "", "app", "web")},
		{"patch a pod's status", req("patch", "", "pods", "status", "app", "web")},
		{"delete a pod it finished", req("delete", "", "pods", "", "app", "web")},
		{"read a secret volume", req("get", "", "secrets", "", "app", "tls")},
		{"read a secret of the environment", req("get", "", "secrets", "", "app", "db")},
		{"read an image pull secret", req("get", "", "secrets", "", "app", "regcred")},
		{"read a secret of the pod's persistent volume", req("get", "", "secrets", "", "app", "csi-secret")},
		{"read a ConfigMap of the environment", req("get", "", "configmaps", "", "app", "settings")},
		{"read the CA of a projected token volume", req("get", "", "configmaps", "", "app", "kube-root-ca.crt")},
		{"watch one ConfigMap by name", req("watch", "", "configmaps", "", "app", "settings")},
		{"read a claim", req("get", "", "persistentvolumeclaims", "", "app", "data")},
		{"read an ephemeral volume's claim", req("get", "", "persistentvolumeclaims", "", "app", "web-scratch")},
		{"read the volume bound to a claim", req("get", "", "persistentvolumes", "", "", "pv1")},
		{"request a token for the pod's service account", req("create", "", "serviceaccounts", "token", "app", "builder")},
		{"read the pod's service account", req("get", "", "serviceaccounts", "", "app", "builder")},
		{"read a volume attachment to it", req("get", "storage.k8s.io", "volumeattachments", "", "", "va1")},
		{"read runtime classes", req("list", "node.k8s.io", "runtimeclasses", "", "", "")},
		{"review a token", req("create", "authentication.k8s.io", "tokenreviews", "", "", "")},
		// Its API's callers: metrics-server, Prometheus.
		{"review a caller's access", req("create", "authorization.k8s.io", "subjectaccessreviews", "", "", "")},
	}
	for _, tt := range allowed {
		t.Run(tt.name, func(t *testing.T) {
			if d, reason, err := a.Authorize(context.Background(), tt.attrs); d != authorizer.Allow || err != nil {
				t.Errorf("refused: %v %q %v", d, reason, err)
			}
		})
	}
}

func TestWhatANodeMayNotDo(t *testing.T) {
	a, _ := fixture()
	tests := []struct {
		name   string
		attrs  authorizer.Attributes
		reason string
	}{
		{"read another node's Node", req("get", "", "nodes", "", "", "n2"), "node 'n1' cannot read 'n2', only its own Node object"},
		{"list all Nodes", req("list", "", "nodes", "", "", ""), "node 'n1' cannot read all nodes, only its own Node object"},
		{"delete a Node", req("delete", "", "nodes", "", "", "n1"), ""},
		{"renew another node's Lease", req("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n2"),
			"can only access node lease with the same name as the requesting node"},
		{"touch a Lease elsewhere", req("get", "coordination.k8s.io", "leases", "", "kube-system", "n1"),
			`can only access leases in the "kube-node-lease" system namespace`},
		{"list every pod", req("list", "", "pods", "", "", ""), "can only list/watch pods with spec.nodeName field selector"},
		{"watch another node's pods", withSelector(req("watch", "", "pods", "", "", ""), "spec.nodeName=n2"),
			"can only list/watch pods with spec.nodeName field selector"},
		{"get a pod of another node", req("get", "", "pods", "", "app", "other"), noRelation},
		{"get a pod not yet scheduled", req("get", "", "pods", "", "app", "pending"), noRelation},
		{"read a secret of another node's pod", req("get", "", "secrets", "", "app", "other-secret"), noRelation},
		{"read a secret of an unscheduled pod", req("get", "", "secrets", "", "app", "pending-secret"), noRelation},
		{"read a secret of the same name in another namespace", req("get", "", "secrets", "", "elsewhere", "tls"), noRelation},
		{"list secrets", req("list", "", "secrets", "", "app", ""), "No Object name found"},
		{"write a secret of its pod", req("update", "", "secrets", "", "app", "tls"), "can only read resources of this type"},
		{"read a ConfigMap no pod uses", req("get", "", "configmaps", "", "app", "unused"), noRelation},
		{"read a volume bound to another claim", req("get", "", "persistentvolumes", "", "", "pv2"), noRelation},
		{"list claims", req("list", "", "persistentvolumeclaims", "", "app", ""), "can only get individual resources of this type"},
		{"request a token for another service account", req("create", "", "serviceaccounts", "token", "app", "default"), noRelation},
		{"create a service account", req("create", "", "serviceaccounts", "", "app", ""), "can only create tokens for individual service accounts"},
		{"read a volume attachment to another node", req("get", "storage.k8s.io", "volumeattachments", "", "", "va2"), noRelation},
		{"list namespaces", req("list", "", "namespaces", "", "", ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason, err := a.Authorize(context.Background(), tt.attrs)
			if d != authorizer.NoOpinion || reason != tt.reason || err != nil {
				t.Errorf("got %v %q %v, want no opinion with %q", d, reason, err, tt.reason)
			}
		})
	}
}

func TestGraphFollowsPods(t *testing.T) {
	a, g := fixture()
	tls := req("get", "", "secrets", "", "app", "tls")
	// A second pod on n1 using the same secret keeps it readable when the first goes.
	twin := webPod()
	twin.Name, twin.UID = "web-2", "uid-web-2"
	g.Update(twin)
	g.Delete(webPod())
	if d, _, _ := a.Authorize(context.Background(), tls); d != authorizer.Allow {
		t.Fatal("a secret still used by a pod on the node is refused")
	}
	g.Delete(twin)
	if d, _, _ := a.Authorize(context.Background(), tls); d != authorizer.NoOpinion {
		t.Fatal("a secret of deleted pods is still readable")
	}
	if len(g.reads) != 1 {
		t.Errorf("references of deleted pods are kept: %v", g.reads)
	}
	// Scheduling a pending pod to n1 makes its secret readable.
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "pending"},
		Spec: corev1.PodSpec{NodeName: "n1", Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "pending-secret"}}}}}}
	g.Update(pending)
	if d, _, _ := a.Authorize(context.Background(), req("get", "", "secrets", "", "app", "pending-secret")); d != authorizer.Allow {
		t.Fatal("the secret of a pod just bound is refused")
	}
}

func TestOnlyNodesAreJudged(t *testing.T) {
	a, _ := fixture()
	for _, u := range []*auth.User{
		{Name: "alice", Groups: []string{auth.GroupAuthenticated}},
		{Name: "system:node:n1", Groups: []string{auth.GroupAuthenticated}},
		{Name: "n1", Groups: []string{Group}},
	} {
		attrs := req("get", "", "secrets", "", "app", "tls")
		attrs.User = u
		if d, reason, _ := a.Authorize(context.Background(), attrs); d != authorizer.NoOpinion || reason != "" {
			t.Errorf("%+v: %v %q", u, d, reason)
		}
	}
	if _, incomplete, err := a.RulesFor(context.Background(), n1, "app"); !incomplete || err == nil {
		t.Error("a node's rules are listed as if complete")
	}
}
