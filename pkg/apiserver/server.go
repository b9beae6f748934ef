// Package apiserver serves the Kubernetes REST API over HTTPS from the registry's
// resources and the storage package: discovery, OpenAPI, CRUD with patch and
// server-side apply, watch, tables, subresources, health and metrics.
package apiserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"golang.org/x/net/http2"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/plugins"
	"github.com/minik8s/minik8s/pkg/aggregator"
	"github.com/minik8s/minik8s/pkg/audit"
	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// Config configures the API server.
type Config struct {
	Store    *storage.Store
	Registry *registry.Registry
	// Address is host:port to listen on.
	Address string
	// ServingCert is presented to clients; ClientCA verifies client certificates.
	ServingCert tls.Certificate
	ClientCA    *x509.CertPool
	// TokenAuthenticators are tried in order for bearer tokens.
	TokenAuthenticators []TokenAuthenticator
	// DisableAnonymous refuses requests without credentials with 401 instead
	// of serving them as system:anonymous (--anonymous-auth=false).
	DisableAnonymous bool
	// MaxRequestsInFlight and MaxMutatingRequestsInFlight cap the read and the
	// write requests served at once (429 beyond); 0 is no cap.
	MaxRequestsInFlight, MaxMutatingRequestsInFlight int
	// Authorizer decides on every request; nil allows authenticated users
	// everything (tests).
	Authorizer Authorizer
	// WriteGuard, if set, checks writes of roles and bindings (RBAC escalation).
	WriteGuard WriteGuard
	// DisableAdmissionPlugins names admission plugins not to run (upstream's
	// --disable-admission-plugins); all others run.
	DisableAdmissionPlugins []string
	// EnableAdmissionPlugins names plugins that are off by default to run
	// (upstream's --enable-admission-plugins).
	EnableAdmissionPlugins []string
	// MaxRequestBodyBytes bounds request bodies; larger ones get 413.
	MaxRequestBodyBytes int64
	// JSONPatchMaxCopyBytes bounds how much the copy operations of one JSON
	// patch may add to the document (upstream's 3 MiB by default): without it a
	// few dozen copies of a copy fill the memory.
	JSONPatchMaxCopyBytes int64
	// ReadyChecks must all pass for /readyz; /livez and /healthz check the store.
	ReadyChecks map[string]func(context.Context) error
	// ServiceAccounts signs service account tokens (serviceaccounts/token).
	ServiceAccounts *serviceaccount.Signer
	// Extra handlers for paths outside the API (the dashboard, proxies); they
	// are authorized as non-resource paths.
	Extra map[string]http.Handler
	// Unauthenticated handlers answer before authentication, for anyone (the
	// CA a joining node fetches before it can trust the server).
	Unauthenticated map[string]http.Handler
	// Connect handles streaming subresources (pods/log, exec, attach, portforward,
	// proxy) that a node answers; nil answers 404.
	Connect ConnectHandler
	// Aggregator proxies the group versions of APIServices that name a
	// Service to their extension API servers; nil serves only local groups.
	Aggregator Aggregator
	// Auditor records requests in the audit log; nil records nothing.
	Auditor *audit.Auditor
	Logger  *slog.Logger
}

// ConnectHandler serves a streaming subresource of an object.
type ConnectHandler interface {
	ServeConnect(w http.ResponseWriter, r *http.Request, res *registry.Resource, namespace, name, subresource string, rest []string)
}

// Aggregator is the kube-aggregator part of the server (pkg/aggregator).
type Aggregator interface {
	// Handler returns the proxy of group/version, nil when it is served here.
	Handler(group, version string) http.Handler
	// Discovery lists what the available extension servers serve.
	Discovery() []aggregator.GroupVersion
	// OnChange registers fn to run when Discovery changes.
	OnChange(fn func())
	// ResolveService returns the address of a ready endpoint of a Service's
	// port, for webhooks that name a Service.
	ResolveService(namespace, name string, port int32) (*url.URL, error)
}

// Validate reports missing settings.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("apiserver: no store")
	case c.Registry == nil:
		return errors.New("apiserver: no registry")
	case c.Address == "":
		return errors.New("apiserver: no listen address")
	}
	return nil
}

// Server is the API server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	inflight *inflight
	http     *http.Server
	ready    atomic.Bool

	discovery *discoveryDocs
	fields    *fieldManagers
	metrics   *metrics
	admission *admission.Chain
	openapi   http.Handler
	crds      *crdServing

	mu        sync.Mutex
	listening net.Addr
}

// New builds the server; Run serves it.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Authorizer == nil {
		cfg.Authorizer = AllowAuthenticated{}
	}
	if cfg.MaxRequestBodyBytes <= 0 {
		cfg.MaxRequestBodyBytes = 3 * 1024 * 1024
	}
	if cfg.JSONPatchMaxCopyBytes <= 0 {
		cfg.JSONPatchMaxCopyBytes = 3 * 1024 * 1024
	}
	limitJSONPatchCopies(cfg.JSONPatchMaxCopyBytes)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, inflight: newInflight(cfg.MaxRequestsInFlight, cfg.MaxMutatingRequestsInFlight)}
	s.discovery = newDiscoveryDocs(cfg.Registry)
	if cfg.Aggregator != nil {
		s.discovery.remote = cfg.Aggregator.Discovery
		cfg.Aggregator.OnChange(s.crdChanged)
	}
	if _, ok := cfg.Connect.(statsSource); ok {
		s.discovery.extra = metricsDiscovery()
	}
	s.fields = newFieldManagers(cfg.Registry)
	s.metrics = newMetrics(cfg.Registry)
	objects := cachedObjects{cfg.Registry}
	chain, err := plugins.New(plugins.Config{Objects: objects, Registry: cfg.Registry, QuotaStatus: objects,
		Authorizer: cfg.Authorizer, Disabled: cfg.DisableAdmissionPlugins, Enabled: cfg.EnableAdmissionPlugins})
	if err != nil {
		return nil, err
	}
	s.admission = chain
	oa, err := newOpenAPI(cfg)
	if err != nil {
		return nil, err
	}
	s.openapi = oa
	return s, nil
}

// Listen binds the port; Serve then answers on it. Split so callers know the port is
// taken before they report readiness.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Address, err)
	}
	s.mu.Lock()
	s.listening = ln.Addr()
	s.mu.Unlock()
	return ln, nil
}

// Serve answers HTTPS on ln until ctx ends, then drains in-flight requests.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	tlsCfg := &tls.Config{
		Certificates: []tls.Certificate{s.cfg.ServingCert},
		// Ask for a certificate but check it in authenticate, as upstream: one
		// the CA did not sign is a 401 there, not a failed handshake.
		ClientAuth: tls.RequestClientCert,
		ClientCAs:  s.cfg.ClientCA,
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
	}
	s.http = &http.Server{
		Handler:           s,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       withConnCert,
	}
	// HTTP/2 with room for a thousand watches on one connection. The random write
	// scheduler picks the next stream to write in constant time; the default one
	// scans every open stream, which costs most when many watches are open.
	if err := http2.ConfigureServer(s.http, &http2.Server{
		MaxConcurrentStreams: 1000,
		MaxReadFrameSize:     256 * 1024,
		NewWriteScheduler:    func() http2.WriteScheduler { return http2.NewRandomWriteScheduler() },
	}); err != nil {
		return fmt.Errorf("configure http2: %w", err)
	}
	s.startCRDs(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(tls.NewListener(ln, tlsCfg)) }()
	s.ready.Store(true)
	select {
	case err := <-errc:
		return fmt.Errorf("serve https: %w", err)
	case <-ctx.Done():
	}
	s.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		_ = s.http.Close()
	}
	return nil
}

// ServeHTTP authenticates, authorizes and routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			if !rec.wrote {
				writeError(rec, r, apierrors.NewInternalError(fmt.Errorf("%v", p)))
			}
		}
	}()
	info := parseRequestInfo(r)
	defer func() { s.metrics.observe(r, info, rec.code, time.Since(start)) }()

	if h := s.cfg.Unauthenticated[r.URL.Path]; h != nil {
		h.ServeHTTP(rec, r)
		return
	}
	notes := &auth.Notes{}
	r = r.WithContext(auth.WithNotes(r.Context(), notes))
	user, err := s.authenticate(r)
	if err != nil {
		if s.cfg.Auditor != nil {
			attrs := requestAttributes(r, &info, nil)
			s.cfg.Auditor.FailedAuthentication(rec, r, &attrs, start)
		}
		// Why stays in the log; the client learns only that it failed, as upstream's.
		s.log.Debug("unauthorized request", "path", r.URL.Path, "err", err)
		writeError(rec, r, apierrors.NewUnauthorized("Unauthorized"))
		return
	}
	requester := user
	if user, err = s.impersonate(r.Context(), r, user); err != nil {
		writeError(rec, r, err)
		return
	}
	// What authenticating had to say: warnings (a legacy token's) go with
	// whatever the response is, annotations to the audit event.
	for _, w := range notes.Warnings() {
		rec.Header().Add("Warning", fmt.Sprintf("299 - %q", w))
	}
	ctx := WithUser(r.Context(), user)
	r = r.WithContext(ctx)
	attrs := requestAttributes(r, &info, user)
	if s.cfg.Auditor != nil {
		if q, ar := s.cfg.Auditor.Begin(rec, r, &attrs, requester, user, start); q != nil {
			for _, a := range notes.Annotations() {
				q.AddAnnotation(a[0], a[1])
			}
			// The reason of an allow costs a little; the audit log records it.
			attrs.Explain = true
			aw := q.Writer(rec, isLongRunning(&info))
			completed := false
			defer func() { q.End(aw, !completed) }()
			s.authorizeAndRoute(aw, ar.WithContext(audit.WithRequest(ar.Context(), q)), attrs, info, q)
			completed = true
			return
		}
	}
	s.authorizeAndRoute(rec, r, attrs, info, nil)
}

// authorizeAndRoute serves a request once its caller is known.
func (s *Server) authorizeAndRoute(w http.ResponseWriter, r *http.Request, attrs Attributes, info requestInfo, q *audit.Request) {
	release, ok := s.inflight.acquire(&info, UserFrom(r.Context()))
	if !ok {
		writeTooManyRequests(w, r)
		return
	}
	defer release()
	if err := s.authorizeAudited(r.Context(), attrs, q); err != nil {
		writeError(w, r, err)
		return
	}
	s.route(w, r, info)
}

// route serves an authorized request.
func (s *Server) route(rec http.ResponseWriter, r *http.Request, info requestInfo) {
	// An extension API server answers for its group version, discovery
	// included; upstream's aggregator sits in front of everything else.
	if s.cfg.Aggregator != nil && info.APIPrefix == "apis" && info.Group != "" && info.Version != "" {
		if h := s.cfg.Aggregator.Handler(info.Group, info.Version); h != nil {
			h.ServeHTTP(rec, r)
			return
		}
	}
	if info.IsResource && info.Group == metricsGroup {
		s.serveMetrics(rec, r, info)
		return
	}
	if info.IsResource {
		s.serveResource(rec, r, info)
		return
	}
	s.serveNonResource(rec, r)
}

// serveNonResource answers health, version, metrics, discovery and OpenAPI paths.
func (s *Server) serveNonResource(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/livez" || p == "/readyz" ||
		strings.HasPrefix(p, "/healthz/") || strings.HasPrefix(p, "/livez/") || strings.HasPrefix(p, "/readyz/"):
		s.serveHealth(w, r)
	case p == "/version" || p == "/version/":
		s.serveVersion(w, r)
	case p == "/metrics":
		s.metrics.serve(w, r)
	case strings.HasPrefix(p, "/debug/pprof/"):
		serveProfiling(w, r)
	case p == "/api" || p == "/api/" || p == "/apis" || p == "/apis/" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/"):
		s.discovery.serve(w, r)
	case p == "/openapi/v2" || strings.HasPrefix(p, "/openapi/v3"):
		s.openapi.ServeHTTP(w, r)
	case p == "/":
		s.serveRootPaths(w, r)
	default:
		for prefix, h := range s.cfg.Extra {
			if p == prefix || strings.HasPrefix(p, strings.TrimSuffix(prefix, "/")+"/") {
				h.ServeHTTP(w, r)
				return
			}
		}
		http.Error(w, "404 page not found", http.StatusNotFound)
	}
}

func (s *Server) serveRootPaths(w http.ResponseWriter, r *http.Request) {
	paths := []string{"/api", "/api/v1", "/apis", "/healthz", "/livez", "/metrics", "/openapi/v2", "/openapi/v3", "/readyz", "/version"}
	for _, gv := range s.discovery.groupVersions() {
		paths = append(paths, "/apis/"+gv.Group, "/apis/"+gv.String())
	}
	data, _ := json.MarshalIndent(&metav1.RootPaths{Paths: uniqueSorted(paths)}, "", "  ")
	writeBytes(w, r, http.StatusOK, mediaJSON, data)
}

// serveHealth answers /healthz, /livez and /readyz like upstream, with ?verbose and
// per-check paths such as /readyz/etcd.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	kind := parts[0]
	only := ""
	if len(parts) == 2 {
		only = parts[1]
	}
	type check struct {
		name string
		fn   func(context.Context) error
	}
	checks := []check{{"ping", func(context.Context) error { return nil }}, {"log", func(context.Context) error { return nil }}, {"etcd", s.checkEtcd}}
	if kind == "readyz" {
		checks = append(checks, check{"informer-sync", func(context.Context) error { return nil }})
		for name, fn := range s.cfg.ReadyChecks {
			checks = append(checks, check{name, fn})
		}
		checks = append(checks, check{"shutdown", func(context.Context) error {
			if !s.ready.Load() {
				return errors.New("server is shutting down")
			}
			return nil
		}})
	}
	exclude := map[string]bool{}
	for _, e := range r.URL.Query()["exclude"] {
		exclude[e] = true
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var b strings.Builder
	failed := false
	found := only == ""
	for _, c := range checks {
		if only != "" && c.name != only {
			continue
		}
		found = true
		if exclude[c.name] {
			fmt.Fprintf(&b, "[+]%s excluded: ok\n", c.name)
			continue
		}
		if err := c.fn(ctx); err != nil {
			failed = true
			fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.name)
			s.log.Info("health check failed", "check", kind+"/"+c.name, "err", err)
			continue
		}
		fmt.Fprintf(&b, "[+]%s ok\n", c.name)
	}
	if !found {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s%s check failed\n", b.String(), kind)
		return
	}
	if only != "" || isTrue(r.URL.Query().Get("verbose")) || r.URL.Query().Has("verbose") {
		if only != "" {
			fmt.Fprint(w, "ok")
			return
		}
		fmt.Fprintf(w, "%s%s check passed\n", b.String(), kind)
		return
	}
	fmt.Fprint(w, "ok")
}

func (s *Server) checkEtcd(ctx context.Context) error {
	return s.cfg.Store.Healthy(ctx)
}

// statusRecorder remembers the status code for metrics and panics.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.code, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to a WebSocket upgrader, which asks for an
// http.Hijacker itself rather than going through a ResponseController.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("connection cannot be taken over (HTTP/2): %w", http.ErrNotSupported)
	}
	if !r.wrote {
		r.code, r.wrote = http.StatusSwitchingProtocols, true
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the connection (for hijacking).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
