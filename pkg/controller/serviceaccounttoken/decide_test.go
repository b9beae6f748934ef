package serviceaccounttoken

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var ca = []byte("-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n")

func account() *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", UID: "sa-uid"}}
}

func tokenSecret(data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-token", UID: "secret-uid", ResourceVersion: "7",
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "app"}},
		Type: corev1.SecretTypeServiceAccountToken, Data: data}
}

func filled() map[string][]byte {
	return map[string][]byte{corev1.ServiceAccountTokenKey: []byte("t"), corev1.ServiceAccountRootCAKey: ca,
		corev1.ServiceAccountNamespaceKey: []byte("ns")}
}

func TestDecide(t *testing.T) {
	deleting := metav1.Now()
	tests := []struct {
		name  string
		in    Input
		want  Kind
		token bool
		ca    bool
		ns    bool
	}{
		{name: "an empty token secret of an existing account gets token, ca.crt and namespace",
			in: Input{Secret: tokenSecret(nil), ServiceAccount: account(), RootCA: ca}, want: Fill, token: true, ca: true, ns: true},
		{name: "a filled secret is left alone",
			in: Input{Secret: tokenSecret(filled()), ServiceAccount: account(), RootCA: ca}, want: Keep},
		{name: "a secret with a token but no ca.crt or namespace keeps its token and gets the rest",
			in:   Input{Secret: tokenSecret(map[string][]byte{corev1.ServiceAccountTokenKey: []byte("t")}), ServiceAccount: account(), RootCA: ca},
			want: Fill, ca: true, ns: true},
		{name: "a secret holding another CA gets the cluster's",
			in: Input{Secret: tokenSecret(func() map[string][]byte { d := filled(); d[corev1.ServiceAccountRootCAKey] = []byte("x"); return d }()),
				ServiceAccount: account(), RootCA: ca}, want: Fill, ca: true},
		{name: "without a root CA configured ca.crt is not asked for",
			in: Input{Secret: tokenSecret(map[string][]byte{corev1.ServiceAccountTokenKey: []byte("t"), corev1.ServiceAccountNamespaceKey: []byte("ns")}),
				ServiceAccount: account()}, want: Keep},
		{name: "a secret whose service account does not exist is deleted",
			in: Input{Secret: tokenSecret(filled()), RootCA: ca}, want: Delete},
		{name: "a secret whose service account is being deleted is deleted",
			in: Input{Secret: tokenSecret(filled()), ServiceAccount: func() *corev1.ServiceAccount {
				sa := account()
				sa.DeletionTimestamp = &deleting
				return sa
			}(), RootCA: ca}, want: Delete},
		{name: "a secret being deleted is left alone",
			in: Input{Secret: func() *corev1.Secret { s := tokenSecret(nil); s.DeletionTimestamp = &deleting; return s }(), RootCA: ca}, want: Keep},
		{name: "a secret of another type is left alone",
			in: Input{Secret: func() *corev1.Secret { s := tokenSecret(nil); s.Type = corev1.SecretTypeOpaque; return s }(), RootCA: ca}, want: Keep},
		{name: "a token secret naming no service account is left alone",
			in: Input{Secret: func() *corev1.Secret { s := tokenSecret(nil); s.Annotations = nil; return s }(), RootCA: ca}, want: Keep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.in)
			if got.Kind != tt.want || got.NeedToken != tt.token || got.NeedCA != tt.ca || got.NeedNamespace != tt.ns {
				t.Errorf("Decide = %+v, want kind %v token %v ca %v namespace %v", got, tt.want, tt.token, tt.ca, tt.ns)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	s := tokenSecret(nil)
	if !Matches(s, account()) {
		t.Error("a secret without a UID annotation does not match its account by name")
	}
	s.Annotations[corev1.ServiceAccountUIDKey] = "sa-uid"
	if !Matches(s, account()) {
		t.Error("a secret does not match the account of its UID")
	}
	s.Annotations[corev1.ServiceAccountUIDKey] = "old-uid"
	if Matches(s, account()) {
		t.Error("a secret matches a new account of the same name")
	}
	if Matches(s, nil) {
		t.Error("a secret matches no account")
	}
}
