package delegated

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/auth"
)

var reader = authenticationv1.UserInfo{
	Username: "system:serviceaccount:monitoring:reader", UID: "u1",
	Groups: []string{"system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"},
	Extra:  map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"reader-0"}},
}

func TestTokenAuthentication(t *testing.T) {
	unavailable := apierrors.NewInternalError(errors.New("etcd is down"))
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "authentication.k8s.io", Resource: "tokenreviews"}, "", errors.New("no"))
	tests := []struct {
		name     string
		token    string
		failures []error
		wantUser *auth.User
		wantErr  string
		reviews  int
	}{
		{name: "a token the API server accepts is its user", token: "good",
			wantUser: &auth.User{Name: reader.Username, UID: "u1", Groups: reader.Groups,
				Extra: map[string][]string{"authentication.kubernetes.io/pod-name": {"reader-0"}}},
			reviews: 1},
		{name: "a token the API server does not know is no user and no error", token: "forged", reviews: 1},
		{name: "the API server's reason for refusing a token is the error", token: "expired", wantErr: "token has expired", reviews: 1},
		{name: "a review that fails inside the API server is asked again", token: "good", failures: []error{unavailable, unavailable},
			wantUser: &auth.User{Name: reader.Username, UID: "u1", Groups: reader.Groups,
				Extra: map[string][]string{"authentication.kubernetes.io/pod-name": {"reader-0"}}},
			reviews: 3},
		{name: "a review the node may not make is not asked again", token: "good", failures: []error{forbidden},
			wantErr: "review a bearer token: tokenreviews.authentication.k8s.io is forbidden: no", reviews: 1},
		{name: "retries end after upstream's five tries", token: "good",
			failures: []error{unavailable, unavailable, unavailable, unavailable, unavailable, unavailable},
			wantErr:  "review a bearer token: Internal error occurred: etcd is down", reviews: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTokenReviews{users: map[string]authenticationv1.UserInfo{"good": reader}, failures: tt.failures}
			a := NewTokenAuthenticator(f, TokenOptions{Backoff: quickRetries})
			u, ok, err := a.AuthenticateToken(context.Background(), tt.token)
			if (err != nil || tt.wantErr != "") && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if ok != (tt.wantUser != nil) || !reflect.DeepEqual(u, tt.wantUser) {
				t.Fatalf("user = %+v, %v; want %+v", u, ok, tt.wantUser)
			}
			if len(f.asked) != tt.reviews {
				t.Fatalf("%d reviews, want %d", len(f.asked), tt.reviews)
			}
			if f.asked[0].Token != tt.token || f.asked[0].Audiences != nil {
				t.Fatalf("review spec = %+v", f.asked[0])
			}
		})
	}
}

func TestTokenAnswersAreCachedForTwoMinutes(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Unix(1e9, 0))
	f := &fakeTokenReviews{users: map[string]authenticationv1.UserInfo{"good": reader}}
	a := NewTokenAuthenticator(f, TokenOptions{Clock: clock})
	ctx := context.Background()
	for _, token := range []string{"good", "forged", "good", "forged"} {
		a.AuthenticateToken(ctx, token)
	}
	if len(f.asked) != 2 {
		t.Fatalf("%d reviews for two tokens asked twice, want 2", len(f.asked))
	}
	clock.Step(DefaultTokenCacheTTL - time.Second)
	if _, ok, _ := a.AuthenticateToken(ctx, "good"); !ok || len(f.asked) != 2 {
		t.Fatalf("within two minutes: ok %v, %d reviews", ok, len(f.asked))
	}
	clock.Step(2 * time.Second)
	a.AuthenticateToken(ctx, "good")
	a.AuthenticateToken(ctx, "forged")
	if len(f.asked) != 4 {
		t.Fatalf("after two minutes: %d reviews, want 4", len(f.asked))
	}
}

func TestTokenReviewFailuresAreNotCached(t *testing.T) {
	f := &fakeTokenReviews{users: map[string]authenticationv1.UserInfo{"good": reader},
		failures: []error{errors.New("connection refused")}}
	a := NewTokenAuthenticator(f, TokenOptions{Backoff: quickRetries})
	if _, _, err := a.AuthenticateToken(context.Background(), "good"); err == nil {
		t.Fatal("a failed review gave no error")
	}
	if _, ok, err := a.AuthenticateToken(context.Background(), "good"); !ok || err != nil {
		t.Fatalf("the next request: %v %v", ok, err)
	}
}

func TestTokenAudiences(t *testing.T) {
	f := &fakeTokenReviews{users: map[string]authenticationv1.UserInfo{"good": reader}}
	if _, ok, _ := NewTokenAuthenticator(f, TokenOptions{Audiences: []string{"kubelet"}}).AuthenticateToken(context.Background(), "good"); ok {
		t.Error("a token meant for another audience was accepted")
	}
	if !reflect.DeepEqual(f.asked[0].Audiences, []string{"kubelet"}) {
		t.Errorf("asked for audiences %v", f.asked[0].Audiences)
	}
	if _, ok, _ := NewTokenAuthenticator(f, TokenOptions{Audiences: []string{"https://kubernetes.default.svc"}}).AuthenticateToken(context.Background(), "good"); !ok {
		t.Error("a token meant for the audience asked was refused")
	}
}
