package union

import (
	"context"
	"errors"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// fixed always answers the same, and lists one rule.
type fixed struct {
	d      authorizer.Decision
	reason string
	err    error
	rule   string
}

func (f fixed) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return f.d, f.reason, f.err
}

func (f fixed) RulesFor(context.Context, *auth.User, string) ([]rbacv1.PolicyRule, bool, error) {
	if f.rule == "" {
		return nil, f.err != nil, f.err
	}
	return []rbacv1.PolicyRule{{Verbs: []string{f.rule}}}, false, nil
}

func TestUnion(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		u          Union
		want       authorizer.Decision
		wantReason string
		wantErr    bool
	}{
		{"the first decision wins", New(fixed{d: authorizer.NoOpinion, reason: "a"}, fixed{d: authorizer.Allow, reason: "b"}, fixed{d: authorizer.Deny}),
			authorizer.Allow, "b", false},
		{"a denial stops the others", New(fixed{d: authorizer.Deny, reason: "no"}, fixed{d: authorizer.Allow}), authorizer.Deny, "no", false},
		{"without a decision every reason is given, one a line", New(fixed{reason: "a"}, fixed{}, fixed{reason: "b"}),
			authorizer.NoOpinion, "a\nb", false},
		{"errors are kept but do not stop the others", New(fixed{err: boom}, fixed{d: authorizer.Allow}), authorizer.Allow, "", false},
		{"errors of all are reported when none decides", New(fixed{err: boom}, fixed{}), authorizer.NoOpinion, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason, err := tt.u.Authorize(context.Background(), authorizer.Attributes{})
			if d != tt.want || reason != tt.wantReason || (err != nil) != tt.wantErr {
				t.Errorf("got %v %q %v", d, reason, err)
			}
		})
	}
	rules, incomplete, err := New(fixed{rule: "get"}, fixed{err: boom}, fixed{rule: "list"}).RulesFor(context.Background(), nil, "")
	if len(rules) != 2 || rules[0].Verbs[0] != "get" || rules[1].Verbs[0] != "list" || !incomplete || err == nil {
		t.Errorf("rules %v incomplete %v err %v", rules, incomplete, err)
	}
}
