package authorization

import (
	"context"
	"reflect"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/registry"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

var admin = &auth.User{Name: "admin", Groups: []string{"system:masters", "system:authenticated"}}

func answer(t *testing.T, r *registry.Resource, ctx context.Context, obj runtime.Object) runtime.Object {
	t.Helper()
	if errs := r.Strategy.Validate(ctx, obj); len(errs) != 0 {
		t.Fatalf("invalid: %v", errs)
	}
	out, err := r.Create(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSelfSubjectAccessReviewAllowsAuthenticatedCallers(t *testing.T) {
	r := SelfSubjectAccessReviews(AllowAuthenticated{})
	ask := func(u *auth.User) bool {
		obj := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "default"}}}
		return answer(t, r, auth.WithUser(context.Background(), u), obj).(*authorizationv1.SelfSubjectAccessReview).Status.Allowed
	}
	if !ask(admin) {
		t.Error("an administrator may not create pods")
	}
	if ask(&auth.User{Name: auth.UserAnonymous, Groups: []string{auth.GroupUnauthenticated}}) {
		t.Error("an anonymous caller may create pods")
	}
}

func TestSubjectAccessReviewsAskAboutTheNamedSubject(t *testing.T) {
	tests := []struct {
		name string
		spec authorizationv1.SubjectAccessReviewSpec
		want bool
	}{
		{"a named user is authenticated", authorizationv1.SubjectAccessReviewSpec{User: "jane"}, true},
		{"a member of system:authenticated is", authorizationv1.SubjectAccessReviewSpec{Groups: []string{"system:authenticated"}}, true},
		{"an unknown group alone is not", authorizationv1.SubjectAccessReviewSpec{Groups: []string{"devs"}}, false},
		{"the anonymous user is not", authorizationv1.SubjectAccessReviewSpec{User: "system:anonymous"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: "/healthz", Verb: "get"}
			out := answer(t, SubjectAccessReviews(AllowAuthenticated{}), context.Background(), &authorizationv1.SubjectAccessReview{Spec: tt.spec})
			if got := out.(*authorizationv1.SubjectAccessReview).Status.Allowed; got != tt.want {
				t.Errorf("allowed %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReviewValidation(t *testing.T) {
	tests := []struct {
		name string
		r    *registry.Resource
		obj  runtime.Object
		want []string
	}{
		{"a subject review needs attributes and a subject", SubjectAccessReviews(nil), &authorizationv1.SubjectAccessReview{},
			[]string{"FieldValueInvalid spec.resourceAttributes", "FieldValueInvalid spec.user"}},
		{"a review carries no metadata", SelfSubjectAccessReviews(nil), &authorizationv1.SelfSubjectAccessReview{
			ObjectMeta: metav1.ObjectMeta{Name: "x"},
			Spec:       authorizationv1.SelfSubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{}}},
			[]string{"FieldValueInvalid metadata"}},
		{"a local review stays in its namespace", LocalSubjectAccessReviews(nil), &authorizationv1.LocalSubjectAccessReview{
			ObjectMeta: metav1.ObjectMeta{Namespace: "a"},
			Spec: authorizationv1.SubjectAccessReviewSpec{User: "u",
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "b"}}},
			[]string{"FieldValueInvalid spec.resourceAttributes.namespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(tt.r.Strategy.Validate(context.Background(), tt.obj)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRulesReviewListsTheCallersRules(t *testing.T) {
	r := SelfSubjectRulesReviews(nil)
	out := answer(t, r, auth.WithUser(context.Background(), admin),
		&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}})
	s := out.(*authorizationv1.SelfSubjectRulesReview)
	if s.Spec.Namespace != "" {
		t.Errorf("the answer repeats the spec %+v; upstream answers with the status alone", s.Spec)
	}
	if !reflect.DeepEqual(s.Status.ResourceRules, []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}) {
		t.Errorf("resource rules %+v, want everything", s.Status.ResourceRules)
	}
	if !reflect.DeepEqual(s.Status.NonResourceRules, []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}) {
		t.Errorf("non-resource rules %+v", s.Status.NonResourceRules)
	}
	if _, err := r.Create(context.Background(), &authorizationv1.SelfSubjectRulesReview{}); err == nil {
		t.Error("a rules review without namespace was answered")
	}
}

// reasoned allows what its rule says and explains itself only when asked.
type reasoned struct{ authorizer.Interface }

func (reasoned) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	reqs, _ := a.FieldSelectorRequirements()
	if len(reqs) == 1 && reqs[0].Field == "spec.nodeName" && reqs[0].Value == "n1" && a.Explain {
		return authorizer.Allow, "selected n1", nil
	}
	return authorizer.NoOpinion, "not n1", nil
}

func TestAccessReviewsPassFieldSelectorsAndReasons(t *testing.T) {
	r := SubjectAccessReviews(reasoned{AllowAuthenticated{}})
	ask := func(fs *authorizationv1.FieldSelectorAttributes) authorizationv1.SubjectAccessReviewStatus {
		obj := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "system:node:n1",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods", FieldSelector: fs}}}
		return answer(t, r, context.Background(), obj).(*authorizationv1.SubjectAccessReview).Status
	}
	if st := ask(&authorizationv1.FieldSelectorAttributes{RawSelector: "spec.nodeName=n1"}); !st.Allowed || st.Reason != "selected n1" {
		t.Errorf("raw selector: %+v", st)
	}
	st := ask(&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{
		{Key: "spec.nodeName", Operator: metav1.FieldSelectorOpIn, Values: []string{"n1"}}}})
	if !st.Allowed {
		t.Errorf("requirements: %+v", st)
	}
	st = ask(nil)
	if st.Allowed || st.Reason != "not n1" {
		t.Errorf("no selector: %+v", st)
	}
	st = ask(&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{
		{Key: "spec.nodeName", Operator: metav1.FieldSelectorOpExists}}})
	if st.EvaluationError != "spec.resourceAttributes.fieldSelector ignored due to parse error" {
		t.Errorf("an unusable selector is not reported: %+v", st)
	}
}
