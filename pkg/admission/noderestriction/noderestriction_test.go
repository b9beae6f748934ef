package noderestriction

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/auth"
)

type pods map[string]*corev1.Pod

func (p pods) Pod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	if pod := p[ns+"/"+name]; pod != nil {
		return pod, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, name)
}

func (p pods) Node(_ context.Context, name string) (*corev1.Node, error) {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: "node-uid"}}, nil
}

func gvr(group, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}
}

var n1 = &auth.User{Name: "system:node:n1", Groups: []string{"system:nodes", auth.GroupAuthenticated}}

func pod(name, nodeName string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: nodeName}}
}

func nodeObj(labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
}

func token(podName, uid string) *authenticationv1.TokenRequest {
	return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: podName, UID: types.UID("uid-" + uid)}}}
}

func TestAdmit(t *testing.T) {
	lookup := pods{"app/mine": pod("mine", "n1"), "app/theirs": pod("theirs", "n2")}
	relabelled := pod("mine", "n1")
	relabelled.Labels = map[string]string{"app": "other"}
	agentLabels := map[string]string{"kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		"beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64", "node.kubernetes.io/instance-type": "vm"}
	withRole := map[string]string{"kubernetes.io/hostname": "n1", "node-role.kubernetes.io/control-plane": "true"}
	tests := []struct {
		name    string
		attrs   admission.Attributes
		wantErr string
	}{
		{"a node registers its own Node with the kubelet's labels",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "nodes"), Object: nodeObj(agentLabels)}, ""},
		{"a node may not register another",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "nodes"), Object: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}},
			`nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`},
		{"a node may not give itself a role",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "nodes"), Object: nodeObj(withRole)},
			`nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane`},
		{"a node keeps a role label it was given",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "nodes"), Name: "n1", Object: nodeObj(withRole), OldObject: nodeObj(withRole)}, ""},
		{"a node may not take a restricted label off",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "nodes"), Name: "n1", Object: nodeObj(agentLabels),
				OldObject: nodeObj(map[string]string{"node-restriction.kubernetes.io/pool": "a"})},
			`nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool`},
		{"a node may not lift its taints",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "nodes"), Subresource: "status", Name: "n1", Object: nodeObj(nil),
				OldObject: nodeObj(nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule})},
			`nodes "n1" is forbidden: node "n1" is not allowed to modify taints`},
		{"a node updates its own status",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "nodes"), Subresource: "status", Name: "n1", Object: nodeObj(nil), OldObject: nodeObj(nil)}, ""},
		{"a node updates the status of its pods",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "pods"), Subresource: "status", Namespace: "app", Name: "mine", Object: pod("mine", "n1"), OldObject: pod("mine", "n1")}, ""},
		{"a node may not update the status of another node's pod",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "pods"), Subresource: "status", Namespace: "app", Name: "theirs", Object: pod("theirs", "n2"), OldObject: pod("theirs", "n2")},
			`pods "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself`},
		{"a node may not relabel a pod through its status",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "pods"), Subresource: "status", Namespace: "app", Name: "mine", Object: relabelled, OldObject: pod("mine", "n1")},
			`pods "mine" is forbidden: node "n1" cannot update labels through pod status`},
		{"a node deletes its own pods",
			admission.Attributes{Operation: admission.Delete, Resource: gvr("", "pods"), Namespace: "app", Name: "mine"}, ""},
		{"a node may not delete another node's pod",
			admission.Attributes{Operation: admission.Delete, Resource: gvr("", "pods"), Namespace: "app", Name: "theirs"},
			`pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself`},
		{"deleting a pod that is gone is a 404",
			admission.Attributes{Operation: admission.Delete, Resource: gvr("", "pods"), Namespace: "app", Name: "gone"}, `pods "gone" not found`},
		{"a node creates no pods but mirror pods",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "pods"), Namespace: "app", Object: pod("new", "n1")},
			`pods "new" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods`},
		{"a node may not update a pod's spec",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "pods"), Namespace: "app", Name: "mine", Object: pod("mine", "n1"), OldObject: pod("mine", "n1")},
			`pods "mine" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods`},
		{"a node asks for a token bound to its pod",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "serviceaccounts"), Subresource: "token", Namespace: "app", Name: "default", Object: token("mine", "mine")}, ""},
		{"a node may not ask for an unbound token",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "serviceaccounts"), Subresource: "token", Namespace: "app", Name: "default", Object: &authenticationv1.TokenRequest{}},
			`serviceaccounts "default" is forbidden: node requested token not bound to a pod`},
		{"a node may not ask for a token bound to another node's pod",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "serviceaccounts"), Subresource: "token", Namespace: "app", Name: "default", Object: token("theirs", "theirs")},
			`serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node`},
		{"a token bound to a recreated pod is refused",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "serviceaccounts"), Subresource: "token", Namespace: "app", Name: "default", Object: token("mine", "old")},
			`serviceaccounts "default" is forbidden: the UID in the bound object reference (uid-old) does not match the UID in record. The object might have been deleted and then recreated`},
		{"a node creates its Lease",
			admission.Attributes{Operation: admission.Create, Resource: gvr("coordination.k8s.io", "leases"), Namespace: "kube-node-lease",
				Object: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}, ""},
		{"a node may not create another node's Lease",
			admission.Attributes{Operation: admission.Create, Resource: gvr("coordination.k8s.io", "leases"), Namespace: "kube-node-lease",
				Object: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}},
			`leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node`},
		{"a node writes no claim but its status",
			admission.Attributes{Operation: admission.Update, Resource: gvr("", "persistentvolumeclaims"), Namespace: "app", Name: "data"},
			`persistentvolumeclaims "data" is forbidden: may only update PVC status`},
		{"other resources are not this plugin's business",
			admission.Attributes{Operation: admission.Create, Resource: gvr("", "events"), Namespace: "app", Object: &corev1.Event{}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.attrs.User = n1
			err := admit(context.Background(), &tt.attrs, lookup)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("got  %s\nwant %s", got, tt.wantErr)
			}
		})
	}
}

func TestOthersPass(t *testing.T) {
	for _, u := range []*auth.User{nil, {Name: "alice"}, {Name: "system:node:n1"}} {
		err := admit(context.Background(), &admission.Attributes{User: u, Operation: admission.Delete, Resource: gvr("", "pods"), Namespace: "app", Name: "theirs"}, pods{})
		if err != nil {
			t.Errorf("%+v: %v", u, err)
		}
	}
}
