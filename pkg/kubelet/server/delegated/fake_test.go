package delegated

import (
	"context"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// fakeTokenReviews answers from a table of tokens and counts the reviews;
// failures are returned, in order, before any answer.
type fakeTokenReviews struct {
	users    map[string]authenticationv1.UserInfo
	failures []error
	asked    []authenticationv1.TokenReviewSpec
}

func (f *fakeTokenReviews) Create(_ context.Context, r *authenticationv1.TokenReview, _ metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	f.asked = append(f.asked, r.Spec)
	if len(f.failures) > 0 {
		err := f.failures[0]
		f.failures = f.failures[1:]
		return nil, err
	}
	out := r.DeepCopy()
	if u, ok := f.users[r.Spec.Token]; ok {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: u, Audiences: []string{"https://kubernetes.default.svc"}}
	} else if r.Spec.Token == "expired" {
		out.Status.Error = "token has expired"
	}
	return out, nil
}

// fakeAccessReviews answers with decide and counts the reviews.
type fakeAccessReviews struct {
	decide   func(authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus
	failures []error
	asked    []authorizationv1.SubjectAccessReviewSpec
}

func (f *fakeAccessReviews) Create(_ context.Context, r *authorizationv1.SubjectAccessReview, _ metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	f.asked = append(f.asked, r.Spec)
	if len(f.failures) > 0 {
		err := f.failures[0]
		f.failures = f.failures[1:]
		return nil, err
	}
	out := r.DeepCopy()
	out.Status = f.decide(r.Spec)
	return out, nil
}

// quickRetries keeps the retry tests fast.
var quickRetries = &wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 5}
