// Package node is upstream's Node authorizer: a kubelet's credentials (user
// system:node:<name> in group system:nodes) may read only the Secrets,
// ConfigMaps, claims, volumes and service account tokens of the pods bound to
// its node, and write only its own Node, Lease and pods' status. Everything
// else a node needs (services, events, its own registration) comes from the
// system:node role's rules, which this authorizer checks itself, as upstream's
// does, so that no binding is needed. What nodes may write is narrowed further
// by the NodeRestriction admission plugin.
package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/rbac"
)

// Nodes' identity, as upstream's node identifier reads it.
const (
	UserPrefix = "system:node:"
	Group      = "system:nodes"
)

// Identity returns the node a user is, and whether it is a node at all: a
// name starting with system:node: and membership of system:nodes.
func Identity(u *auth.User) (node string, isNode bool) {
	if u == nil || !strings.HasPrefix(u.Name, UserPrefix) {
		return "", false
	}
	for _, g := range u.Groups {
		if g == Group {
			return strings.TrimPrefix(u.Name, UserPrefix), true
		}
	}
	return "", false
}

// Authorizer is the Node authorizer.
type Authorizer struct {
	graph *Graph
	rules []rbacv1.PolicyRule
}

var _ authorizer.Interface = (*Authorizer)(nil)

// New decides from graph; rules are what nodes may do beyond what the graph
// governs (upstream's system:node role rules).
func New(graph *Graph, rules []rbacv1.PolicyRule) *Authorizer {
	return &Authorizer{graph: graph, rules: rules}
}

// Authorize implements authorizer.Authorizer. It has no opinion on anyone but
// nodes, and never denies outright: RBAC may still grant a node more.
func (a *Authorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	node, isNode := Identity(attrs.User)
	if !isNode {
		return authorizer.NoOpinion, "", nil
	}
	if node == "" {
		return authorizer.NoOpinion, fmt.Sprintf("unknown node for user %q", attrs.User.Name), nil
	}
	if attrs.IsResource {
		switch attrs.Group + "/" + attrs.Resource {
		case "/secrets":
			return a.readNamespaced(node, secretKind, &attrs)
		case "/configmaps":
			return a.readNamespaced(node, configMapKind, &attrs)
		case "/persistentvolumeclaims":
			if attrs.Subresource == "status" {
				return a.updateStatus(node, pvcKind, &attrs)
			}
			return a.getOnly(node, &attrs, func() bool { return a.graph.mayRead(node, refOf(pvcKind, &attrs)) })
		case "/persistentvolumes":
			return a.getOnly(node, &attrs, func() bool { return a.graph.mayReadPV(node, attrs.Name) })
		case "resource.k8s.io/resourceclaims":
			return a.getOnly(node, &attrs, func() bool { return a.graph.mayRead(node, refOf(resourceClaimKind, &attrs)) })
		case "storage.k8s.io/volumeattachments":
			return a.getOnly(node, &attrs, func() bool { return a.graph.attachedTo(node, attrs.Name) })
		case "/serviceaccounts":
			return a.serviceAccount(node, &attrs)
		case "coordination.k8s.io/leases":
			return lease(node, &attrs)
		case "storage.k8s.io/csinodes":
			return csiNode(node, &attrs)
		case "/nodes":
			return nodeObject(node, &attrs)
		case "/pods":
			return a.pod(node, &attrs)
		}
	}
	if rbac.RulesAllow(&attrs, a.rules) {
		return authorizer.Allow, "", nil
	}
	return authorizer.NoOpinion, "", nil
}

var errRuleResolution = errors.New("node authorizer does not support user rule resolution")

// RulesFor implements authorizer.RuleResolver: like upstream's, it cannot list
// a node's rules, and says so.
func (a *Authorizer) RulesFor(_ context.Context, u *auth.User, _ string) ([]rbacv1.PolicyRule, bool, error) {
	if _, isNode := Identity(u); isNode {
		return nil, true, errRuleResolution
	}
	return nil, false, nil
}

func refOf(k kind, attrs *authorizer.Attributes) ref {
	return ref{kind: k, namespace: attrs.Namespace, name: attrs.Name}
}

func noRelationship(node string) (authorizer.Decision, string, error) {
	return authorizer.NoOpinion, fmt.Sprintf("no relationship found between node '%s' and this object", node), nil
}

func related(node string, ok bool) (authorizer.Decision, string, error) {
	if !ok {
		return noRelationship(node)
	}
	return authorizer.Allow, "", nil
}

// readNamespaced: get, list and watch of one named object of a pod's.
func (a *Authorizer) readNamespaced(node string, k kind, attrs *authorizer.Attributes) (authorizer.Decision, string, error) {
	switch attrs.Verb {
	case "get", "list", "watch":
	default:
		return authorizer.NoOpinion, "can only read resources of this type", nil
	}
	if attrs.Subresource != "" {
		return authorizer.NoOpinion, "cannot read subresource", nil
	}
	if attrs.Namespace == "" {
		return authorizer.NoOpinion, "can only read namespaced object of this type", nil
	}
	if attrs.Name == "" {
		return authorizer.NoOpinion, "No Object name found", nil
	}
	return related(node, a.graph.mayRead(node, refOf(k, attrs)))
}

// getOnly: a get of one object the graph relates to the node.
func (a *Authorizer) getOnly(node string, attrs *authorizer.Attributes, ok func() bool) (authorizer.Decision, string, error) {
	if attrs.Verb != "get" {
		return authorizer.NoOpinion, "can only get individual resources of this type", nil
	}
	if attrs.Subresource != "" {
		return authorizer.NoOpinion, "cannot get subresource", nil
	}
	if attrs.Name == "" {
		return authorizer.NoOpinion, "No Object name found", nil
	}
	return related(node, ok())
}

// updateStatus: the status of a claim a pod of the node uses.
func (a *Authorizer) updateStatus(node string, k kind, attrs *authorizer.Attributes) (authorizer.Decision, string, error) {
	switch attrs.Verb {
	case "update", "patch":
	default:
		return authorizer.NoOpinion, "can only get/update/patch this type", nil
	}
	if attrs.Name == "" {
		return authorizer.NoOpinion, "No Object name found", nil
	}
	return related(node, a.graph.mayRead(node, refOf(k, attrs)))
}

// serviceAccount: tokens for the service accounts of the node's pods (and,
// as upstream with KubeletServiceAccountTokenForCredentialProviders, a get of
// those accounts).
func (a *Authorizer) serviceAccount(node string, attrs *authorizer.Attributes) (authorizer.Decision, string, error) {
	if attrs.Verb == "get" && attrs.Subresource == "" {
		return a.readNamespaced(node, serviceAccountKind, attrs)
	}
	if attrs.Verb != "create" || attrs.Name == "" {
		return authorizer.NoOpinion, "can only create tokens for individual service accounts", nil
	}
	if attrs.Subresource != "token" {
		return authorizer.NoOpinion, "can only create token subresource of serviceaccount", nil
	}
	return related(node, a.graph.mayRead(node, refOf(serviceAccountKind, attrs)))
}

// lease: the node's own Lease in kube-node-lease.
func lease(node string, attrs *authorizer.Attributes) (authorizer.Decision, string, error) {
	switch attrs.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return authorizer.NoOpinion, "can only get, create, update, patch, or delete a node lease", nil
	}
	if attrs.Namespace != corev1.NamespaceNodeLease {
		return authorizer.NoOpinion, fmt.Sprintf("can only access leases in the %q system namespace", corev1.NamespaceNodeLease), nil
	}
	if attrs.Verb != "create" && attrs.Name != node {
		return authorizer.NoOpinion, "can only access node lease with the same name as the requesting node", nil
	}
	return authorizer.Allow, "", nil
}

// csiNode: the node's own CSINode.
func csiNode(node string, attrs *authorizer.Attributes) (authorizer.Decision, string, error) {
	switch attrs.Verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return authorizer.NoOpinion, "can only get, create, update, patch, or delete a CSINode", nil
	}
	if attrs.Subresource != "" {
		return authorizer.NoOpinion, "cannot authorize CSINode subresources", nil
	}
	if attrs.Verb != "create" && attrs.Name != node {
		return authorizer.NoOpinion, "can only access CSINode with the same name as the requesting node", nil
	}
	return authorizer.Allow, "", nil
}

// nodeObject: a node reads only its own Node; it may create and update Nodes
// (NodeRestriction keeps that to its own) and their status.
func nodeObject(node string, attrs *authorizer.Attributes) (authorizer.Decision, string, error) {
	switch attrs.Subresource {
	case "":
		switch attrs.Verb {
		case "create", "update", "patch":
			return authorizer.Allow, "", nil
		case "get", "list", "watch":
			switch attrs.Name {
			case node:
				return authorizer.Allow, "", nil
			case "":
				return authorizer.NoOpinion, fmt.Sprintf("node '%s' cannot read all nodes, only its own Node object", node), nil
			default:
				return authorizer.NoOpinion, fmt.Sprintf("node '%s' cannot read '%s', only its own Node object", node, attrs.Name), nil
			}
		}
	case "status":
		switch attrs.Verb {
		case "update", "patch":
			return authorizer.Allow, "", nil
		}
	}
	return authorizer.NoOpinion, "", nil
}

// pod: a node gets the pods bound to it and lists or watches them by
// spec.nodeName; it may create (mirror pods) and delete pods, update their
// status and evict them, which NodeRestriction narrows to its own.
func (a *Authorizer) pod(node string, attrs *authorizer.Attributes) (authorizer.Decision, string, error) {
	switch attrs.Subresource {
	case "":
		switch attrs.Verb {
		case "get":
			return a.getOnly(node, attrs, func() bool { return a.graph.podOn(node, attrs.Namespace, attrs.Name) })
		case "list", "watch":
			if selectsNode(attrs, node) {
				return authorizer.Allow, "", nil
			}
			if attrs.Name != "" {
				return related(node, a.graph.podOn(node, attrs.Namespace, attrs.Name))
			}
			return authorizer.NoOpinion, "can only list/watch pods with spec.nodeName field selector", nil
		case "create", "delete":
			return authorizer.Allow, "", nil
		}
	case "status":
		switch attrs.Verb {
		case "update", "patch":
			return authorizer.Allow, "", nil
		}
	case "eviction":
		if attrs.Verb == "create" {
			return authorizer.Allow, "", nil
		}
	}
	return authorizer.NoOpinion, "", nil
}

// selectsNode reports whether a list or watch selects spec.nodeName=<node>.
func selectsNode(attrs *authorizer.Attributes, node string) bool {
	reqs, err := attrs.FieldSelectorRequirements()
	if err != nil {
		return false
	}
	for _, r := range reqs {
		if r.Field == "spec.nodeName" && (r.Operator == selection.Equals || r.Operator == selection.DoubleEquals) && r.Value == node {
			return true
		}
	}
	return false
}
