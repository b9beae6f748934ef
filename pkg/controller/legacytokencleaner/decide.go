package legacytokencleaner

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
)

// Kind is what to do with one token Secret.
type Kind int

const (
	// Keep leaves the Secret as it is.
	Keep Kind = iota
	// MarkInvalid labels it invalid since today: its token is refused from now on.
	MarkInvalid
	// Delete deletes it.
	Delete
)

// Action is a decision about one Secret; Reason says why (for logs and tests).
type Action struct {
	Kind Kind
	// InvalidSince is the label's value for MarkInvalid.
	InvalidSince string
	Reason       string
	// Malformed is set when a label of the Secret cannot be read; the Secret
	// is kept and the controller logs an error, as upstream.
	Malformed bool
}

// Input is everything a decision about one Secret depends on.
type Input struct {
	// Now is the controller's clock.
	Now time.Time
	// Period is --legacy-service-account-token-clean-up-period.
	Period time.Duration
	// TrackedSince is the date, as the tracking ConfigMap holds it, since when
	// the API server keeps last-used labels.
	TrackedSince string
	Secret       *corev1.Secret
	// ServiceAccount is the account the Secret is annotated for, nil when
	// there is none (or it has another UID than the annotation says).
	ServiceAccount *corev1.ServiceAccount
	// Mounted: a pod of the namespace references the Secret.
	Mounted bool
}

// Candidate reports whether a Secret could be acted on at all now: an
// existing service account token Secret older than the period. Only for those
// does the controller read the tracking ConfigMap.
func Candidate(s *corev1.Secret, now time.Time, period time.Duration) bool {
	return s.Type == corev1.SecretTypeServiceAccountToken && s.DeletionTimestamp == nil &&
		s.CreationTimestamp.Time.Before(now.Add(-period))
}

// Decide is upstream's legacy token cleaner's rule, for one Secret. Once the
// API server has tracked use for longer than the period, an auto-generated
// token Secret (listed by its service account) that no pod references and
// that has been neither created nor used within the period is first marked
// invalid, then deleted once it has been invalid for the period. A token used
// while marked invalid is refused, but its use is recorded, which holds its
// deletion off; only removing the label by hand makes it valid again.
func Decide(in Input) Action {
	now := in.Now.UTC()
	since, err := time.Parse(serviceaccount.DateFormat, in.TrackedSince)
	if err != nil {
		return Action{Reason: "the tracking ConfigMap holds no date", Malformed: true}
	}
	// The day tracking began counts only from its end.
	if now.Before(since.AddDate(0, 0, 1).Add(in.Period)) {
		return Action{Reason: "last use has not been tracked for the clean-up period yet"}
	}
	s := in.Secret
	if !Candidate(s, now, in.Period) {
		return Action{Reason: "not a service account token created before the clean-up period"}
	}
	oldest := now.Add(-in.Period).Format(serviceaccount.DateFormat)
	if lastUsed, ok := s.Labels[serviceaccount.LastUsedLabelKey]; ok {
		if _, err := time.Parse(serviceaccount.DateFormat, lastUsed); err != nil {
			return Action{Reason: "the last-used label is not a date", Malformed: true}
		}
		// Dates in this layout sort as strings.
		if lastUsed >= oldest {
			return Action{Reason: "used within the clean-up period"}
		}
	}
	if in.ServiceAccount == nil || !listsSecret(in.ServiceAccount, s.Name) {
		return Action{Reason: "not an auto-generated token: its service account does not list it"}
	}
	if in.Mounted {
		return Action{Reason: "referenced by a pod"}
	}
	invalidSince := s.Labels[serviceaccount.InvalidSinceLabelKey]
	if _, err := time.Parse(serviceaccount.DateFormat, invalidSince); err != nil {
		today := now.Format(serviceaccount.DateFormat)
		return Action{Kind: MarkInvalid, InvalidSince: today, Reason: "unused for the clean-up period"}
	}
	if invalidSince >= oldest {
		return Action{Reason: "invalid for less than the clean-up period"}
	}
	return Action{Kind: Delete, Reason: "invalid for the clean-up period"}
}

func listsSecret(sa *corev1.ServiceAccount, name string) bool {
	for _, ref := range sa.Secrets {
		if ref.Name == name {
			return true
		}
	}
	return false
}
