package legacytokencleaner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
)

func TestDecideFollowsUpstreamsCleaner(t *testing.T) {
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	period := 30 * 24 * time.Hour
	day := func(d time.Time) string { return d.Format(serviceaccount.DateFormat) }
	longAgo := day(now.AddDate(-1, 0, 0))
	tokenSecret := func(created time.Time, labels map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tok", Labels: labels,
			CreationTimestamp: metav1.NewTime(created), Annotations: map[string]string{corev1.ServiceAccountNameKey: "app"}},
			Type: corev1.SecretTypeServiceAccountToken}
	}
	old := now.Add(-2 * period)
	listing := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"},
		Secrets: []corev1.ObjectReference{{Name: "tok"}}}
	notListing := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"}}
	deleting := tokenSecret(old, nil)
	deleting.DeletionTimestamp = &metav1.Time{Time: now}
	opaque := tokenSecret(old, nil)
	opaque.Type = corev1.SecretTypeOpaque

	cases := []struct {
		name    string
		in      Input
		want    Kind
		invalid string
		bad     bool
	}{
		{name: "an unused auto-generated token older than the period is marked invalid today",
			in:   Input{TrackedSince: longAgo, Secret: tokenSecret(old, nil), ServiceAccount: listing},
			want: MarkInvalid, invalid: "2026-12-08"},
		{name: "a token last used before the period is marked invalid",
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.LastUsedLabelKey: day(now.Add(-period - 48*time.Hour))})},
			want: MarkInvalid, invalid: "2026-12-08"},
		{name: "a token used on the first day of the period is kept",
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.LastUsedLabelKey: day(now.Add(-period))})},
			want: Keep},
		{name: "a token used yesterday is kept",
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.LastUsedLabelKey: day(now.AddDate(0, 0, -1))})},
			want: Keep},
		{name: "nothing is done before tracking has run for a whole period after the day it began",
			in:   Input{TrackedSince: day(now.Add(-period)), Secret: tokenSecret(old, nil), ServiceAccount: listing},
			want: Keep},
		{name: "tracking that began a period and a day ago is long enough",
			in:   Input{TrackedSince: day(now.Add(-period - 24*time.Hour)), Secret: tokenSecret(old, nil), ServiceAccount: listing},
			want: MarkInvalid, invalid: "2026-12-08"},
		{name: "nothing is done without a tracking date", bad: true,
			in:   Input{TrackedSince: "", Secret: tokenSecret(old, nil), ServiceAccount: listing},
			want: Keep},
		{name: "a token created within the period is kept even if never used",
			in:   Input{TrackedSince: longAgo, Secret: tokenSecret(now.Add(-period+time.Hour), nil), ServiceAccount: listing},
			want: Keep},
		{name: "a secret of another type is kept",
			in:   Input{TrackedSince: longAgo, Secret: opaque, ServiceAccount: listing},
			want: Keep},
		{name: "a secret being deleted is kept",
			in:   Input{TrackedSince: longAgo, Secret: deleting, ServiceAccount: listing},
			want: Keep},
		{name: "a token its service account does not list was made by hand and is kept",
			in:   Input{TrackedSince: longAgo, Secret: tokenSecret(old, nil), ServiceAccount: notListing},
			want: Keep},
		{name: "a token whose service account is gone is kept",
			in:   Input{TrackedSince: longAgo, Secret: tokenSecret(old, nil)},
			want: Keep},
		{name: "a token a pod references is kept",
			in:   Input{TrackedSince: longAgo, Secret: tokenSecret(old, nil), ServiceAccount: listing, Mounted: true},
			want: Keep},
		{name: "a last-used label that is not a date keeps the token and is reported", bad: true,
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.LastUsedLabelKey: "yesterday"})},
			want: Keep},
		{name: "a token invalid for less than the period is kept",
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.InvalidSinceLabelKey: day(now.AddDate(0, 0, -3))})},
			want: Keep},
		{name: "a token invalid for longer than the period is deleted",
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.InvalidSinceLabelKey: day(now.Add(-period - 48*time.Hour))})},
			want: Delete},
		{name: "an invalid token used again within the period is kept, still invalid",
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.InvalidSinceLabelKey: day(now.Add(-period - 48*time.Hour)),
					serviceaccount.LastUsedLabelKey: day(now)})},
			want: Keep},
		{name: "an invalid-since label that is not a date is set to today",
			in: Input{TrackedSince: longAgo, ServiceAccount: listing,
				Secret: tokenSecret(old, map[string]string{serviceaccount.InvalidSinceLabelKey: "true"})},
			want: MarkInvalid, invalid: "2026-12-08"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Now, tc.in.Period = now, period
			got := Decide(tc.in)
			if got.Kind != tc.want || got.InvalidSince != tc.invalid || got.Malformed != tc.bad {
				t.Fatalf("Decide = %+v, want kind %d, invalid since %q, malformed %v", got, tc.want, tc.invalid, tc.bad)
			}
		})
	}
}
