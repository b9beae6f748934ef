// Package authorizer holds what every authorizer shares: the attributes of a
// request it decides on, its decision, and the rules it can list for a user.
// The authorizers themselves live in the packages below (rbac, node, union),
// as upstream's --authorization-mode=Node,RBAC puts them side by side.
package authorizer

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/minik8s/minik8s/pkg/auth"
)

// Decision is an authorizer's answer.
type Decision int

const (
	// NoOpinion lets the next authorizer decide; the last one's silence denies.
	NoOpinion Decision = iota
	// Allow lets the request go ahead.
	Allow
	// Deny refuses the request without asking the others.
	Deny
)

// Attributes are what an authorizer sees of a request. They are passed by value
// so that a check allocates nothing on its way.
type Attributes struct {
	User *auth.User
	// Verb is the API verb (get, list, watch, create, update, patch, delete,
	// deletecollection, or a special one such as bind, escalate, impersonate) of
	// a resource request, or the lower-case HTTP method of a non-resource one.
	Verb        string
	IsResource  bool
	Group       string
	Version     string
	Resource    string
	Subresource string
	Namespace   string
	// Name is the object's name; for a list or watch it is the name a
	// metadata.name field selector asks for, as upstream sets it.
	Name string
	// Path is the URL path of a non-resource request.
	Path string
	// FieldSelector is the raw field selector of a list or watch;
	// FieldRequirements, when set, are the same already parsed (access reviews).
	FieldSelector     string
	FieldRequirements fields.Requirements
	// Explain asks for the reason of an Allow too (access reviews report it);
	// requests only need the reason of a refusal, and formatting one costs more
	// than the decision.
	Explain bool
}

// FieldSelectorRequirements parses the field selector, if any.
func (a *Attributes) FieldSelectorRequirements() (fields.Requirements, error) {
	if a.FieldRequirements != nil || a.FieldSelector == "" {
		return a.FieldRequirements, nil
	}
	sel, err := fields.ParseSelector(a.FieldSelector)
	if err != nil {
		return nil, err
	}
	return sel.Requirements(), nil
}

// Authorizer decides on a request. reason explains a decision (or a lack of
// one) the way upstream's authorizers do; err reports a failure to decide.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (d Decision, reason string, err error)
}

// RuleResolver lists what a user may do in a namespace ("" for cluster-wide
// rules only), for SelfSubjectRulesReview. incomplete says the list may miss
// rules the authorizer would still allow.
type RuleResolver interface {
	RulesFor(ctx context.Context, u *auth.User, namespace string) (rules []rbacv1.PolicyRule, incomplete bool, err error)
}

// Interface is an authorizer that can also list rules.
type Interface interface {
	Authorizer
	RuleResolver
}
