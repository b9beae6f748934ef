// Package union asks several authorizers in turn, as upstream's API server does
// with the modes of --authorization-mode: the first that allows or denies
// decides; when none does, the request is refused with all their reasons.
package union

import (
	"context"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Union is an ordered list of authorizers that can also list rules.
type Union []authorizer.Interface

var _ authorizer.Interface = Union{}

// New asks the authorizers in order.
func New(authorizers ...authorizer.Interface) Union { return Union(authorizers) }

// Authorize implements authorizer.Authorizer.
func (u Union) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	var errs []error
	var reasons []string
	for _, az := range u {
		d, reason, err := az.Authorize(ctx, a)
		if err != nil {
			errs = append(errs, err)
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
		if d != authorizer.NoOpinion {
			return d, reason, err
		}
	}
	return authorizer.NoOpinion, strings.Join(reasons, "\n"), utilerrors.NewAggregate(errs)
}

// RulesFor implements authorizer.RuleResolver: every authorizer's rules, one
// after the other; incomplete if any says so.
func (u Union) RulesFor(ctx context.Context, user *auth.User, namespace string) ([]rbacv1.PolicyRule, bool, error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	incomplete := false
	for _, az := range u {
		r, inc, err := az.RulesFor(ctx, user, namespace)
		rules = append(rules, r...)
		incomplete = incomplete || inc
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rules, incomplete, utilerrors.NewAggregate(errs)
}
