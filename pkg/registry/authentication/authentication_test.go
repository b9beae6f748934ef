package authentication

import (
	"context"
	"reflect"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/minik8s/minik8s/pkg/auth"
)

func TestSelfSubjectReviewAnswersWhoTheCallerIs(t *testing.T) {
	ctx := auth.WithUser(context.Background(), &auth.User{Name: "admin", UID: "u1",
		Groups: []string{"system:masters", "system:authenticated"}, Extra: map[string][]string{"scopes": {"a"}}})
	out, err := SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{})
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*authenticationv1.SelfSubjectReview)
	want := authenticationv1.UserInfo{Username: "admin", UID: "u1", Groups: []string{"system:masters", "system:authenticated"},
		Extra: map[string]authenticationv1.ExtraValue{"scopes": {"a"}}}
	if !reflect.DeepEqual(r.Status.UserInfo, want) || r.CreationTimestamp.IsZero() {
		t.Errorf("review %+v", r)
	}
}

func TestSelfSubjectReviewWithoutCallerIsABadRequest(t *testing.T) {
	if _, err := SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}); !apierrors.IsBadRequest(err) {
		t.Errorf("err %v, want bad request", err)
	}
}

type oneToken struct{}

func (oneToken) AuthenticateToken(_ context.Context, token string) (*auth.User, bool, error) {
	if token == "good" {
		return &auth.User{Name: "kubelet-bootstrap", Groups: []string{"system:bootstrappers"}}, true, nil
	}
	return nil, false, nil
}

func TestTokenReviews(t *testing.T) {
	tests := []struct {
		name       string
		authn      TokenAuthenticator
		token      string
		wantAuthed bool
		wantUser   string
		wantGroups []string
	}{
		{"a known token is authenticated with the server's added group", oneToken{}, "good", true, "kubelet-bootstrap",
			[]string{"system:bootstrappers", "system:authenticated"}},
		{"an unknown token is not authenticated", oneToken{}, "bad", false, "", nil},
		{"without an authenticator nothing is authenticated", nil, "good", false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := TokenReviews(tt.authn).Create(context.Background(), &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tt.token}})
			if err != nil {
				t.Fatal(err)
			}
			s := out.(*authenticationv1.TokenReview).Status
			if s.Authenticated != tt.wantAuthed || s.User.Username != tt.wantUser || !reflect.DeepEqual(s.User.Groups, tt.wantGroups) {
				t.Errorf("status %+v", s)
			}
		})
	}
	if _, err := TokenReviews(oneToken{}).Create(context.Background(), &authenticationv1.TokenReview{}); !apierrors.IsBadRequest(err) {
		t.Errorf("a review without token: %v, want bad request", err)
	}
}
