package clientcert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/certificates"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

// signingCluster is a fake API server whose CSRs are approved and signed by
// ca as they are created, as the csrapproving and csrsigning controllers do
// for a node's own request, for lifetime on clock.
type signingCluster struct {
	*fake.Clientset
	mu      sync.Mutex
	created []*certv1.CertificateSigningRequest
}

func newSigningCluster(t *testing.T, ca *pki.KeyPair, clock *clocktesting.FakeClock, lifetime time.Duration, deny bool) *signingCluster {
	c := &signingCluster{Clientset: fake.NewClientset()}
	c.PrependReactor("create", "certificatesigningrequests", func(action k8stesting.Action) (bool, runtime.Object, error) {
		csr := action.(k8stesting.CreateAction).GetObject().(*certv1.CertificateSigningRequest)
		c.mu.Lock()
		defer c.mu.Unlock()
		csr.Name = fmt.Sprintf("csr-%d", len(c.created))
		c.created = append(c.created, csr.DeepCopy())
		if deny {
			csr.Status.Conditions = []certv1.CertificateSigningRequestCondition{{Type: certv1.CertificateDenied, Status: corev1.ConditionTrue}}
			return false, nil, nil
		}
		cr, err := certificates.ParseCSR(csr.Spec.Request)
		if err != nil {
			t.Errorf("the node's request does not parse: %v", err)
			return true, nil, err
		}
		if !certificates.IsNodeClientCSR(csr, cr) {
			t.Errorf("the approver would not take the node's request: %+v %+v", csr.Spec, cr.Subject)
		}
		certPEM, err := certificates.Sign(ca, cr, csr.Spec.Usages, clock.Now(), lifetime)
		if err != nil {
			return true, nil, err
		}
		csr.Status.Conditions = []certv1.CertificateSigningRequestCondition{{Type: certv1.CertificateApproved, Status: corev1.ConditionTrue}}
		csr.Status.Certificate = certPEM
		return false, nil, nil
	})
	return c
}

func (c *signingCluster) requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.created)
}

// initialCert writes a node certificate signed by ca at now for lifetime.
func initialCert(t *testing.T, ca *pki.KeyPair, dir, node string, now time.Time, lifetime time.Duration) []byte {
	t.Helper()
	kp, err := pki.Issue(ca, pki.Leaf{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: kp.Cert.Subject}, kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := certificates.ParseCSR(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := certificates.Sign(ca, cr, []certv1.KeyUsage{certv1.UsageClientAuth}, now, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, certPEM, kp.KeyPEM); err != nil {
		t.Fatal(err)
	}
	return certPEM
}

var (
	caOnce sync.Once
	ca     *pki.KeyPair
)

func testCA(t *testing.T) *pki.KeyPair {
	caOnce.Do(func() {
		var err error
		ca, err = pki.LoadOrCreateCA(t.TempDir(), "ca", "test-ca")
		if err != nil {
			t.Fatal(err)
		}
	})
	return ca
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestTheManagerRotatesTheCertificateAtItsDeadlineAndWritesItSafely(t *testing.T) {
	ca := testCA(t)
	dir := t.TempDir()
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := clocktesting.NewFakeClock(start)
	// Signers backdate by five minutes: an hour's certificate runs 65 minutes,
	// and with no jitter is renewed after 70% of them, 40.5 minutes from now.
	old := initialCert(t, ca, dir, "n1", start, time.Hour)
	cluster := newSigningCluster(t, ca, clock, time.Hour, false)
	m, err := New(Config{NodeName: "n1", Dir: dir, Client: cluster, Clock: clock, Jitter: func() float64 { return 0 }, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	waitFor(t, "the manager to wait for the deadline", clock.HasWaiters)
	clock.Step(40 * time.Minute)
	waitFor(t, "the manager to wait again", clock.HasWaiters)
	if n := cluster.requests(); n != 0 {
		t.Fatalf("%d requests before the deadline", n)
	}
	clock.Step(time.Minute)
	waitFor(t, "the certificate to be replaced", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "node.crt"))
		return len(data) > 0 && !bytes.Equal(data, old)
	})

	csr := cluster.created[0]
	if csr.Spec.SignerName != certv1.KubeAPIServerClientKubeletSignerName {
		t.Errorf("signer %q", csr.Spec.SignerName)
	}
	kp, err := pki.Load(dir, Name)
	if err != nil {
		t.Fatal(err)
	}
	if kp.Cert.Subject.CommonName != "system:node:n1" || len(kp.Cert.Subject.Organization) != 1 || kp.Cert.Subject.Organization[0] != "system:nodes" {
		t.Errorf("subject %v", kp.Cert.Subject)
	}
	if _, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM); err != nil {
		t.Errorf("the new key does not fit the new certificate: %v", err)
	}
	for _, f := range []string{"node.crt", "node.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, st.Mode().Perm(), err)
		}
	}
	// The new certificate lasts an hour from its arrival: the manager waits
	// for its deadline rather than asking again at once.
	waitFor(t, "the manager to wait for the new deadline", clock.HasWaiters)
	clock.Step(30 * time.Minute)
	waitFor(t, "the manager to wait again", clock.HasWaiters)
	if n := cluster.requests(); n != 1 {
		t.Fatalf("%d requests, want the one rotation", n)
	}
}

func TestADeniedRequestIsRetriedAndTheCertificateKept(t *testing.T) {
	ca := testCA(t)
	dir := t.TempDir()
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := clocktesting.NewFakeClock(start)
	// A certificate past its deadline already: rotation starts at once.
	old := initialCert(t, ca, dir, "n1", start.Add(-time.Hour), time.Hour)
	cluster := newSigningCluster(t, ca, clock, time.Hour, true)
	m, err := New(Config{NodeName: "n1", Dir: dir, Client: cluster, Clock: clock, Jitter: func() float64 { return 0.5 }, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitFor(t, "the first request", func() bool { return cluster.requests() == 1 })
	waitFor(t, "the manager to back off", clock.HasWaiters)
	clock.Step(time.Second)
	waitFor(t, "the retry", func() bool { return cluster.requests() == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "node.crt")); !bytes.Equal(data, old) {
		t.Error("a denied request replaced the certificate")
	}
}

func TestConfigNeedsNodeDirectoryAndClient(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no node name", Config{Dir: "d", Client: fake.NewClientset()}},
		{"no directory", Config{NodeName: "n", Client: fake.NewClientset()}},
		{"no client", Config{NodeName: "n", Dir: "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New accepted an incomplete configuration")
			}
		})
	}
}
