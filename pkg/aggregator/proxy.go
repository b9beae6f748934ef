package aggregator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	upgradeproxy "k8s.io/apimachinery/pkg/util/proxy"
	apiproxy "k8s.io/apiserver/pkg/util/proxy"
	"k8s.io/client-go/transport"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/servicecall"
)

// proxy sends one request to the extension API server of an APIService.
type proxy struct {
	a          *Aggregator
	apiService *apiregistrationv1.APIService
}

// cachedTransport is the transport of one version of an APIService.
type cachedTransport struct {
	resourceVersion string
	rt              *http.Transport
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// As upstream: an APIService whose checks fail is not tried.
	if !isAvailable(p.apiService) {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	user := auth.UserFrom(r.Context())
	if user == nil {
		http.Error(w, "missing user", http.StatusInternalServerError)
		return
	}
	rt, err := p.a.transport(p.apiService)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	target, err := p.a.resolve(p.apiService)
	if err != nil {
		p.a.log.Warn("resolve extension API server", "apiservice", p.apiService.Name, "err", err)
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	location := &url.URL{Scheme: "https", Host: target.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	out := r.Clone(r.Context())
	out.Header = withoutCredentials(r.Header)
	// The caller's identity travels in the request headers the extension
	// server's requestheader authenticator reads; set on the request itself,
	// not by a round tripper, because an upgrade dials without one.
	transport.SetAuthProxyHeaders(out, user.Name, user.UID, user.Groups, user.Extra)
	h := upgradeproxy.NewUpgradeAwareHandler(location, rt, true, false, errorResponder{})
	h.ServeHTTP(w, out)
}

// withoutCredentials copies headers without what authenticated the caller to
// this server: upstream's authentication and impersonation filters remove them
// before a request is proxied.
func withoutCredentials(h http.Header) http.Header {
	out := h.Clone()
	out.Del("Authorization")
	for k := range out {
		if strings.HasPrefix(strings.ToLower(k), "impersonate-") {
			out.Del(k)
		}
	}
	return out
}

// errorResponder answers a failed proxy attempt.
type errorResponder struct{}

func (errorResponder) Error(w http.ResponseWriter, _ *http.Request, err error) {
	http.Error(w, err.Error(), http.StatusServiceUnavailable)
}

// transport returns the TLS transport of an APIService, rebuilt when it changes.
func (a *Aggregator) transport(s *apiregistrationv1.APIService) (*http.Transport, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.transports[s.Name]; ok && c.resourceVersion == s.ResourceVersion {
		return c.rt, nil
	}
	cert := a.cfg.ProxyClientCert
	rt, err := servicecall.Target{
		CABundle:           s.Spec.CABundle,
		ServerName:         servicecall.ServiceServerName(s.Spec.Service.Name, s.Spec.Service.Namespace),
		InsecureSkipVerify: s.Spec.InsecureSkipTLSVerify,
		ClientCert:         &cert,
	}.Transport()
	if err != nil {
		return nil, fmt.Errorf("build transport for APIService %s: %w", s.Name, err)
	}
	if old, ok := a.transports[s.Name]; ok {
		old.rt.CloseIdleConnections()
	}
	a.transports[s.Name] = cachedTransport{resourceVersion: s.ResourceVersion, rt: rt}
	return rt, nil
}

// resolve picks the address to call for an APIService: a ready endpoint of a
// ClusterIP Service, the external name of an ExternalName one.
func (a *Aggregator) resolve(s *apiregistrationv1.APIService) (*url.URL, error) {
	port := int32(443)
	if s.Spec.Service.Port != nil {
		port = *s.Spec.Service.Port
	}
	return apiproxy.ResolveEndpoint(a.services, a.slices, s.Spec.Service.Namespace, s.Spec.Service.Name, port)
}

// ResolveService returns the address of a ready endpoint of a Service's port,
// as requests to an APIService are routed; webhooks that name a Service use it.
func (a *Aggregator) ResolveService(namespace, name string, port int32) (*url.URL, error) {
	return apiproxy.ResolveEndpoint(a.services, a.slices, namespace, name, port)
}
