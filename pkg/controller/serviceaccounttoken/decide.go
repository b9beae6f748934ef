package serviceaccounttoken

import (
	"bytes"

	corev1 "k8s.io/api/core/v1"
)

// Kind is what to do with one service account token Secret.
type Kind int

const (
	// Keep leaves the Secret as it is.
	Keep Kind = iota
	// Fill writes what the Secret lacks: token, ca.crt, namespace, and the
	// service account's UID annotation.
	Fill
	// Delete deletes the Secret: its service account is gone.
	Delete
)

// Action is a decision about one Secret; Reason says why (for logs and tests).
type Action struct {
	Kind Kind
	// NeedToken, NeedCA and NeedNamespace say which keys Fill writes.
	NeedToken, NeedCA, NeedNamespace bool
	Reason                           string
}

// Input is everything a decision about one Secret depends on.
type Input struct {
	Secret *corev1.Secret
	// ServiceAccount is the account the Secret is annotated for, nil when it
	// does not exist or has another UID than the Secret's annotation says.
	ServiceAccount *corev1.ServiceAccount
	// RootCA is what ca.crt must hold; empty leaves ca.crt alone.
	RootCA []byte
}

// Decide is upstream's token controller's rule for one Secret: a token
// Secret whose service account is gone is deleted; one whose token, CA or
// namespace is missing (or whose CA is not the cluster's) is filled; a
// token already there is never replaced.
func Decide(in Input) Action {
	s := in.Secret
	switch {
	case s.Type != corev1.SecretTypeServiceAccountToken:
		return Action{Reason: "not a service account token secret"}
	case s.DeletionTimestamp != nil:
		return Action{Reason: "the secret is being deleted"}
	case s.Annotations[corev1.ServiceAccountNameKey] == "":
		return Action{Reason: "the secret names no service account"}
	case in.ServiceAccount == nil:
		return Action{Kind: Delete, Reason: "its service account does not exist"}
	case in.ServiceAccount.DeletionTimestamp != nil:
		return Action{Kind: Delete, Reason: "its service account is being deleted"}
	}
	a := Action{
		NeedToken:     len(s.Data[corev1.ServiceAccountTokenKey]) == 0,
		NeedCA:        len(in.RootCA) > 0 && !bytes.Equal(s.Data[corev1.ServiceAccountRootCAKey], in.RootCA),
		NeedNamespace: len(s.Data[corev1.ServiceAccountNamespaceKey]) == 0,
	}
	if !a.NeedToken && !a.NeedCA && !a.NeedNamespace {
		a.Reason = "token, ca.crt and namespace are in place"
		return a
	}
	a.Kind, a.Reason = Fill, "the secret lacks data"
	return a
}

// Matches reports whether sa is the account a token Secret is annotated for:
// same name, and same UID unless the Secret names none yet.
func Matches(s *corev1.Secret, sa *corev1.ServiceAccount) bool {
	if sa == nil || s.Annotations[corev1.ServiceAccountNameKey] != sa.Name {
		return false
	}
	uid := s.Annotations[corev1.ServiceAccountUIDKey]
	return uid == "" || uid == string(sa.UID)
}
