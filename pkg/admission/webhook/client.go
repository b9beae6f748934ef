package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
)

// client calls one webhook endpoint. Its transport keeps connections alive
// and is shared by every hook with the same client configuration, across
// snapshots, so a webhook call reuses an open TLS connection.
type client struct {
	http *http.Client
	url  string
	err  error // a configuration that cannot be called
}

// clientCache keeps clients by client configuration.
type clientCache struct {
	resolver ServiceResolver
	mu       sync.Mutex
	byKey    map[string]*client
}

func newClientCache(resolver ServiceResolver) *clientCache {
	return &clientCache{resolver: resolver, byKey: map[string]*client{}}
}

// assign gives each hook its client, building those not cached, and closes
// the idle connections of clients no hook uses any more.
func (c *clientCache) assign(hooks []*hook) {
	c.mu.Lock()
	defer c.mu.Unlock()
	used := map[string]bool{}
	for _, h := range hooks {
		k := clientKey(h.clientConfig)
		cl := c.byKey[k]
		if cl == nil {
			cl = newClient(h.clientConfig, c.resolver)
			c.byKey[k] = cl
		}
		h.client = cl
		used[k] = true
	}
	for k, cl := range c.byKey {
		if !used[k] {
			if cl.http != nil {
				cl.http.CloseIdleConnections()
			}
			delete(c.byKey, k)
		}
	}
}

func clientKey(cc admissionregv1.WebhookClientConfig) string {
	sum := sha256.Sum256(cc.CABundle)
	k := hex.EncodeToString(sum[:8])
	if cc.URL != nil {
		return k + "|url|" + *cc.URL
	}
	if s := cc.Service; s != nil {
		port, path := int32(443), ""
		if s.Port != nil {
			port = *s.Port
		}
		if s.Path != nil {
			path = *s.Path
		}
		return fmt.Sprintf("%s|svc|%s|%s|%d|%s", k, s.Namespace, s.Name, port, path)
	}
	return k + "|none"
}

// serviceHostSuffix marks the host names of service references; the dialer
// resolves them to an endpoint.
const serviceHostSuffix = ".svc"

func newClient(cc admissionregv1.WebhookClientConfig, resolver ServiceResolver) *client {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cc.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cc.CABundle) {
			return &client{err: errors.New("unable to load root certificates: no certificates found in caBundle")}
		}
		tlsCfg.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg,
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	cl := &client{http: &http.Client{Transport: tr}}
	switch {
	case cc.URL != nil:
		u, err := url.Parse(*cc.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			cl.err = fmt.Errorf("invalid webhook URL %q", *cc.URL)
		}
		cl.url = *cc.URL
	case cc.Service != nil:
		s := cc.Service
		port := int32(443)
		if s.Port != nil {
			port = *s.Port
		}
		path := "/"
		if s.Path != nil {
			path = *s.Path
		}
		// The host is the service's DNS name, which the certificate names;
		// the dialer reaches a ready endpoint instead of resolving it.
		host := s.Name + "." + s.Namespace + serviceHostSuffix
		cl.url = "https://" + net.JoinHostPort(host, strconv.Itoa(int(port))) + path
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if resolver == nil {
				return nil, errors.New("service references cannot be resolved")
			}
			to, err := resolver.Resolve(ctx, s.Namespace, s.Name, port)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, to)
		}
	default:
		cl.err = errors.New("webhook has neither url nor service")
	}
	return cl
}
