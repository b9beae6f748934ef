package certificates

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"reflect"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/registry"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func request(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "jane"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newCSR(t *testing.T) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "jane"},
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: request(t), SignerName: "kubernetes.io/kube-apiserver-client",
			Usages: []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}, Username: "spoofed"}}
}

func TestCreateRecordsTheRequester(t *testing.T) {
	csr := newCSR(t)
	r := CertificateSigningRequests()
	ctx := auth.WithUser(context.Background(), &auth.User{Name: "admin", UID: "u1", Groups: []string{"system:masters"}})
	r.Strategy.PrepareForCreate(ctx, csr)
	if errs := r.Strategy.Validate(ctx, csr); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	if csr.Spec.Username != "admin" || csr.Spec.UID != "u1" || !reflect.DeepEqual(csr.Spec.Groups, []string{"system:masters"}) {
		t.Errorf("requester %+v", csr.Spec)
	}
	cells, _ := r.Table.Row(csr)
	if cells[3] != "admin" || cells[5] != "Pending" {
		t.Errorf("cells %v", cells)
	}
	if f := r.Fields(csr); f["spec.signerName"] != "kubernetes.io/kube-apiserver-client" {
		t.Errorf("fields %v", f)
	}
}

func TestCSRValidation(t *testing.T) {
	short := int32(60)
	tests := []struct {
		name   string
		mutate func(*certificatesv1.CertificateSigningRequest)
		want   []string
	}{
		{"a request that is not PEM is refused", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = []byte("x") },
			[]string{"FieldValueInvalid spec.request"}},
		{"usages are required", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Usages = nil },
			[]string{"FieldValueRequired spec.usages"}},
		{"a signer name needs a domain and a path", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "signer" },
			[]string{"FieldValueInvalid spec.signerName"}},
		{"certificates shorter than ten minutes are refused", func(c *certificatesv1.CertificateSigningRequest) { c.Spec.ExpirationSeconds = &short },
			[]string{"FieldValueInvalid spec.expirationSeconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCSR(t)
			tt.mutate(c)
			if got := problems(CertificateSigningRequests().Strategy.Validate(context.Background(), c)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestApprovalGoesThroughItsOwnSubresource(t *testing.T) {
	old := newCSR(t)
	r := CertificateSigningRequests()
	r.Strategy.PrepareForCreate(context.Background(), old)
	approved := old.DeepCopy()
	approved.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "OK"}}

	viaStatus := approved.DeepCopy()
	ss := r.Strategy.(registry.StatusStrategy)
	ss.PrepareForStatusUpdate(context.Background(), viaStatus, old)
	if got := problems(ss.ValidateStatusUpdate(context.Background(), viaStatus, old)); !reflect.DeepEqual(got, []string{"FieldValueForbidden status.conditions"}) {
		t.Errorf("approving through status: %v, want forbidden", got)
	}

	viaApproval := approved.DeepCopy()
	as := r.Strategy.(registry.SubresourceStrategy)
	if !r.UpdatableSubresource("approval") {
		t.Fatal("approval is not an updatable subresource")
	}
	as.PrepareForSubresourceUpdate(context.Background(), "approval", viaApproval, old)
	if errs := as.ValidateSubresourceUpdate(context.Background(), "approval", viaApproval, old); len(errs) != 0 {
		t.Errorf("approving through approval: %v", errs)
	}
	if viaApproval.Status.Conditions[0].LastUpdateTime.IsZero() {
		t.Error("the approval was not stamped")
	}
	cells, _ := r.Table.Row(viaApproval)
	if cells[5] != "Approved" {
		t.Errorf("condition printed %v", cells[5])
	}
}
