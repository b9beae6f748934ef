// Package servicecall holds what the API server needs to call out to a server
// it does not run: an extension API server behind an APIService, or a webhook
// named by a URL or a Service. The callee is verified with the caBundle the
// object carries, under the name `<service>.<namespace>.svc` when it is a
// Service, as upstream's API server verifies it.
package servicecall

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"time"
)

// Target says how to trust the server called and who the caller is.
type Target struct {
	// CABundle (PEM) verifies the server; empty means the system's roots.
	CABundle []byte
	// ServerName is the name the server's certificate must carry; empty means
	// the host of the URL dialled.
	ServerName string
	// InsecureSkipVerify trusts any server certificate.
	InsecureSkipVerify bool
	// ClientCert, when set, is presented to the server.
	ClientCert *tls.Certificate
}

// ServiceServerName is the name a Service's server certificate is checked
// against: upstream's `<name>.<namespace>.svc`.
func ServiceServerName(name, namespace string) string { return name + "." + namespace + ".svc" }

// TLSConfig builds the client TLS configuration of t.
func (t Target) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if len(t.CABundle) > 0 && !t.InsecureSkipVerify {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CABundle) {
			return nil, errors.New("unable to load root certificates: unable to parse bytes as PEM block")
		}
		cfg.RootCAs = pool
	}
	if t.ClientCert != nil {
		cfg.Certificates = []tls.Certificate{*t.ClientCert}
	}
	return cfg, nil
}

// Transport is an HTTP transport that calls with t's TLS configuration.
func (t Target) Transport() (*http.Transport, error) {
	tlsCfg, err := t.TLSConfig()
	if err != nil {
		return nil, err
	}
	return &http.Transport{
		TLSClientConfig:     tlsCfg,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 25,
		ForceAttemptHTTP2:   true,
	}, nil
}
