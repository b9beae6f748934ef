package authorizer

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/minik8s/minik8s/pkg/auth"
)

func TestPrivilegedGroupsAllowTheirMembersOnly(t *testing.T) {
	p := PrivilegedGroups{auth.GroupMasters}
	for _, tt := range []struct {
		user *auth.User
		want Decision
	}{
		{&auth.User{Name: "admin", Groups: []string{"x", auth.GroupMasters}}, Allow},
		{&auth.User{Name: "system:masters"}, NoOpinion},
		{&auth.User{Name: "alice", Groups: []string{auth.GroupAuthenticated}}, NoOpinion},
		{nil, NoOpinion},
	} {
		if d, _, _ := p.Authorize(context.Background(), Attributes{User: tt.user}); d != tt.want {
			t.Errorf("%+v: %v, want %v", tt.user, d, tt.want)
		}
	}
}

// laggard allows once it has caught up.
type laggard struct{ caughtUp *bool }

func (l laggard) Authorize(context.Context, Attributes) (Decision, string, error) {
	if *l.caughtUp {
		return Allow, "", nil
	}
	return NoOpinion, "not yet", nil
}

func (laggard) RulesFor(context.Context, *auth.User, string) ([]rbacv1.PolicyRule, bool, error) {
	return nil, false, nil
}

func TestCaughtUpAsksAgainOnlyAfterCatchingUp(t *testing.T) {
	behind := false
	caughtUp := false
	waits := 0
	a := CaughtUp{Interface: laggard{&caughtUp}, CatchUp: func(context.Context) bool {
		waits++
		if behind {
			caughtUp, behind = true, false
			return true
		}
		return false
	}}
	if d, reason, _ := a.Authorize(context.Background(), Attributes{}); d != NoOpinion || reason != "not yet" || waits != 1 {
		t.Errorf("up to date and refused: %v %q after %d waits", d, reason, waits)
	}
	behind = true
	if d, _, _ := a.Authorize(context.Background(), Attributes{}); d != Allow {
		t.Errorf("a refusal is not asked again after catching up: %v", d)
	}
	if _, _, _ = a.Authorize(context.Background(), Attributes{}); waits != 2 {
		t.Errorf("an allowed request waited: %d waits", waits)
	}
}

func TestFieldSelectorRequirements(t *testing.T) {
	a := Attributes{FieldSelector: "spec.nodeName=n1,metadata.name!=x"}
	reqs, err := a.FieldSelectorRequirements()
	if err != nil || len(reqs) != 2 || reqs[1].Field != "spec.nodeName" && reqs[0].Field != "spec.nodeName" {
		t.Errorf("%v %v", reqs, err)
	}
	if _, err := (&Attributes{FieldSelector: "a=b=c"}).FieldSelectorRequirements(); err == nil {
		t.Error("a malformed selector parses")
	}
}
