package delegated

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

func nodesRequest(user, sub string) authorizer.Attributes {
	return authorizer.Attributes{
		User: &auth.User{Name: user, UID: "u1", Groups: []string{"system:serviceaccounts", "system:authenticated"},
			Extra: map[string][]string{"k": {"v"}}},
		Verb: "get", IsResource: true, Version: "v1", Resource: "nodes", Subresource: sub, Name: "n1", Path: "/metrics/resource",
	}
}

// metricsReaders may read nodes/metrics; "banned" is denied outright.
func metricsReaders(spec authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
	switch {
	case spec.User == "banned":
		return authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: "banned"}
	case spec.User == "reader" && spec.ResourceAttributes != nil && spec.ResourceAttributes.Subresource == "metrics":
		return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: `RBAC: allowed by ClusterRoleBinding "metrics"`}
	}
	return authorizationv1.SubjectAccessReviewStatus{}
}

func TestAccessReview(t *testing.T) {
	tests := []struct {
		name       string
		attrs      authorizer.Attributes
		failures   []error
		decide     func(authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus
		want       authorizer.Decision
		wantReason string
		wantErr    bool
		reviews    int
	}{
		{name: "a request the API server allows is allowed", attrs: nodesRequest("reader", "metrics"),
			want: authorizer.Allow, wantReason: `RBAC: allowed by ClusterRoleBinding "metrics"`, reviews: 1},
		{name: "a request nothing allows has no opinion", attrs: nodesRequest("reader", "proxy"), want: authorizer.NoOpinion, reviews: 1},
		{name: "a request the API server denies is denied", attrs: nodesRequest("banned", "metrics"),
			want: authorizer.Deny, wantReason: "banned", reviews: 1},
		{name: "an answer both allowing and denying is a denial and an error", attrs: nodesRequest("reader", "metrics"),
			decide: func(authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
				return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Denied: true}
			}, want: authorizer.Deny, wantErr: true, reviews: 1},
		{name: "a review the API server was too busy for is asked again", attrs: nodesRequest("reader", "metrics"),
			failures: []error{apierrors.NewTooManyRequests("slow down", 0)}, want: authorizer.Allow,
			wantReason: `RBAC: allowed by ClusterRoleBinding "metrics"`, reviews: 2},
		{name: "a review that cannot be made is an error", attrs: nodesRequest("reader", "metrics"),
			failures: []error{errors.New("connection refused")}, want: authorizer.NoOpinion, wantErr: true, reviews: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAccessReviews{decide: metricsReaders, failures: tt.failures}
			if tt.decide != nil {
				f.decide = tt.decide
			}
			d, reason, err := NewAuthorizer(f, AccessOptions{Backoff: quickRetries}).Authorize(context.Background(), tt.attrs)
			if d != tt.want || reason != tt.wantReason || (err != nil) != tt.wantErr {
				t.Fatalf("got %v %q %v; want %v %q error %v", d, reason, err, tt.want, tt.wantReason, tt.wantErr)
			}
			if len(f.asked) != tt.reviews {
				t.Fatalf("%d reviews, want %d", len(f.asked), tt.reviews)
			}
		})
	}
}

func TestAccessReviewSpec(t *testing.T) {
	f := &fakeAccessReviews{decide: metricsReaders}
	NewAuthorizer(f, AccessOptions{}).Authorize(context.Background(), nodesRequest("reader", "metrics"))
	want := authorizationv1.SubjectAccessReviewSpec{
		User: "reader", UID: "u1", Groups: []string{"system:serviceaccounts", "system:authenticated"},
		Extra: map[string]authorizationv1.ExtraValue{"k": {"v"}},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Version: "v1", Resource: "nodes",
			Subresource: "metrics", Name: "n1"},
	}
	if !reflect.DeepEqual(f.asked[0], want) {
		t.Fatalf("review spec\n got %+v\nwant %+v", f.asked[0], want)
	}
	NewAuthorizer(f, AccessOptions{}).Authorize(context.Background(),
		authorizer.Attributes{User: &auth.User{Name: "reader"}, Verb: "get", Path: "/healthz"})
	if got := f.asked[1]; got.ResourceAttributes != nil || !reflect.DeepEqual(got.NonResourceAttributes,
		&authorizationv1.NonResourceAttributes{Path: "/healthz", Verb: "get"}) {
		t.Fatalf("non-resource review spec %+v", got)
	}
}

func TestAccessAnswersAreCachedFiveMinutesAllowedAndThirtySecondsRefused(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Unix(1e9, 0))
	f := &fakeAccessReviews{decide: metricsReaders}
	a := NewAuthorizer(f, AccessOptions{Clock: clock})
	ctx := context.Background()
	allowed, refused := nodesRequest("reader", "metrics"), nodesRequest("reader", "stats")
	ask := func() {
		a.Authorize(ctx, allowed)
		a.Authorize(ctx, refused)
	}
	ask()
	ask()
	if len(f.asked) != 2 {
		t.Fatalf("%d reviews for two requests asked twice, want 2", len(f.asked))
	}
	clock.Step(DefaultDenyCacheTTL + time.Second)
	ask()
	if len(f.asked) != 3 || f.asked[2].ResourceAttributes.Subresource != "stats" {
		t.Fatalf("after 31s only the refusal is asked again: %d reviews", len(f.asked))
	}
	clock.Step(DefaultAllowCacheTTL)
	ask()
	if len(f.asked) != 5 {
		t.Fatalf("after five minutes both are asked again: %d reviews", len(f.asked))
	}
	// Another user's identical request is its own review.
	a.Authorize(ctx, nodesRequest("other", "metrics"))
	if len(f.asked) != 6 {
		t.Fatalf("another user's request was answered from the cache")
	}
}
