package csrcleaner

import (
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpiredKeepsCSRsAsLongAsUpstream(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	csr := func(created time.Duration, cert bool, conds ...certv1.RequestConditionType) *certv1.CertificateSigningRequest {
		c := &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-created))}}
		for _, t := range conds {
			c.Status.Conditions = append(c.Status.Conditions, certv1.CertificateSigningRequestCondition{Type: t, Status: "True", LastUpdateTime: metav1.NewTime(now.Add(-created))})
		}
		if cert {
			c.Status.Certificate = []byte("not a pem block")
		}
		return c
	}
	for _, tc := range []struct {
		name string
		csr  *certv1.CertificateSigningRequest
		want bool
	}{
		{"a pending CSR of an hour stays", csr(time.Hour, false), false},
		{"a pending CSR of more than a day goes", csr(25*time.Hour, false), true},
		{"an issued CSR approved 30 minutes ago stays", csr(30*time.Minute, true, certv1.CertificateApproved), false},
		{"an issued CSR approved two hours ago goes", csr(2*time.Hour, true, certv1.CertificateApproved), true},
		{"an approved CSR never issued stays as long as a pending one", csr(2*time.Hour, false, certv1.CertificateApproved), false},
		{"a denied CSR of two hours goes", csr(2*time.Hour, false, certv1.CertificateDenied), true},
		{"a failed CSR of two hours goes", csr(2*time.Hour, false, certv1.CertificateApproved, certv1.CertificateFailed), true},
		{"a denied CSR of ten minutes stays", csr(10*time.Minute, false, certv1.CertificateDenied), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expired(tc.csr, now); got != tc.want {
				t.Fatalf("expired %v, want %v", got, tc.want)
			}
		})
	}
}
