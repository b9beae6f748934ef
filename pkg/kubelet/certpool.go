package kubelet

import (
	"crypto/x509"
	"errors"
)

func certPool(pem []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		return nil, errors.New("no certificate in the cluster CA")
	}
	return p, nil
}
