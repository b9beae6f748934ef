package clientcert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/pkg/certificates"
)

// Request makes a new key and asks the cluster for a client certificate of
// node nodeName with it, waiting (polling every interval) until the request
// is issued, denied or failed. It returns the certificate and key in PEM.
func Request(ctx context.Context, client kubernetes.Interface, nodeName string, interval time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate a key for node %s: %w", nodeName, err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("make the certificate request of node %s: %w", nodeName, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the key of node %s: %w", nodeName, err)
	}
	csr := &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "csr-"},
		Spec: certv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certv1.KubeAPIServerClientKubeletSignerName,
			// An ECDSA key signs; it does not encipher keys.
			Usages: []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth},
		},
	}
	created, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("create the certificate signing request of node %s: %w", nodeName, err)
	}
	err = wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		got, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, created.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil // the server may be briefly away; keep asking
		}
		switch {
		case certificates.HasCondition(got, certv1.CertificateDenied):
			return false, fmt.Errorf("certificate signing request %s was denied", created.Name)
		case certificates.HasCondition(got, certv1.CertificateFailed):
			return false, fmt.Errorf("certificate signing request %s failed", created.Name)
		case len(got.Status.Certificate) > 0:
			certPEM = got.Status.Certificate
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("wait for certificate signing request %s: %w", created.Name, err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}
