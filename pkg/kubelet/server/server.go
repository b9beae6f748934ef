// Package server is the node agent's HTTPS API, the one upstream's kubelet serves on
// port 10250: container logs, exec, attach and port-forward streams (proxied to the
// container runtime's streaming server), the pods of the node, resource usage
// (/stats/summary) for the metrics API, and Prometheus metrics (/metrics/...).
// The API server (its kubelet-client certificate) and cluster admins may call
// everything; anyone else, by client certificate or bearer token, needs RBAC
// on the node's subresources (nodes/metrics, nodes/stats, nodes/proxy, ...),
// which the node asks the API server about, as upstream's kubelet does.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/pkg/kubelet/server/delegated"
)

// Runtime is the part of the CRI client the API needs; *cri.Client implements it.
type Runtime interface {
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(ctx context.Context, id string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	ListContainerStats(ctx context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error)
	Exec(ctx context.Context, req *runtimeapi.ExecRequest) (string, error)
	Attach(ctx context.Context, req *runtimeapi.AttachRequest) (string, error)
	PortForward(ctx context.Context, podSandboxID string, ports []int32) (string, error)
}

// Config configures the API.
type Config struct {
	NodeName string
	// Address is host:port to listen on (":10250").
	Address string
	// TLSDir keeps the self-signed serving certificate.
	TLSDir string
	// ClientCA (PEM) signs the client certificates accepted: the cluster CA.
	ClientCA []byte
	// Client reads the node's pods from the API.
	Client  kubernetes.Interface
	Runtime Runtime
	Logger  *slog.Logger
	// Stats reads node usage; nil reads this machine's /proc.
	Stats NodeStatsSource
	// Metrics is served on /metrics and ProbeMetrics on /metrics/probes (the
	// agent's own registries); nil leaves the path unserved.
	Metrics      prometheus.Gatherer
	ProbeMetrics prometheus.Gatherer
	// Tokens authenticates bearer tokens and Authorizer decides for callers
	// other than the API server and cluster admins; nil asks the API server
	// through Client (TokenReview, SubjectAccessReview), with upstream's caching.
	Tokens     TokenAuthenticator
	Authorizer authorizer.Authorizer
}

// Callers let in without a review: the system:masters group and the API
// server's client certificate, as upstream's kubeadm names it.
const (
	mastersGroup        = "system:masters"
	apiserverKubeletCN  = "kube-apiserver-kubelet-client"
	selfSignedCAName    = "kubelet-ca"
	selfSignedCertName  = "kubelet"
	containerIDSplitter = "://"
)

// Server is the running API.
type Server struct {
	cfg   Config
	log   *slog.Logger
	stats *statsProvider
	gate  *gate
	mux   *http.ServeMux
}

// New checks the configuration and builds the handlers; Run serves them.
func New(cfg Config) (*Server, error) {
	if cfg.NodeName == "" || cfg.Address == "" || cfg.TLSDir == "" || cfg.Client == nil || cfg.Runtime == nil {
		return nil, errors.New("kubelet API: node name, address, TLS dir, client and runtime are required")
	}
	if len(cfg.ClientCA) == 0 {
		return nil, errors.New("kubelet API: no cluster CA to verify clients with")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stats == nil {
		cfg.Stats = procStats{}
	}
	if cfg.Tokens == nil {
		cfg.Tokens = delegated.NewTokenAuthenticator(cfg.Client.AuthenticationV1().TokenReviews(), delegated.TokenOptions{})
	}
	if cfg.Authorizer == nil {
		cfg.Authorizer = delegated.NewAuthorizer(cfg.Client.AuthorizationV1().SubjectAccessReviews(), delegated.AccessOptions{})
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "kubelet-api")}
	s.gate = &gate{nodeName: cfg.NodeName, tokens: cfg.Tokens, authz: cfg.Authorizer, log: s.log}
	s.stats = newStatsProvider(cfg.Runtime, cfg.Stats, cfg.NodeName)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") })
	s.mux.HandleFunc("GET /pods", s.servePods)
	s.mux.HandleFunc("GET /pods/", s.servePods)
	s.mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", s.serveContainerLogs)
	s.mux.HandleFunc("/exec/{ns}/{pod}/{container}", s.serveExec)
	s.mux.HandleFunc("/exec/{ns}/{pod}/{uid}/{container}", s.serveExec)
	s.mux.HandleFunc("/attach/{ns}/{pod}/{container}", s.serveAttach)
	s.mux.HandleFunc("/attach/{ns}/{pod}/{uid}/{container}", s.serveAttach)
	s.mux.HandleFunc("/portForward/{ns}/{pod}", s.servePortForward)
	s.mux.HandleFunc("/portForward/{ns}/{pod}/{uid}", s.servePortForward)
	s.mux.HandleFunc("/stats/summary", s.serveSummary)
	if err := s.handleMetrics(); err != nil {
		return nil, fmt.Errorf("kubelet API: metrics: %w", err)
	}
	return s, nil
}

// Run serves HTTPS until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	tlsCfg, err := s.tlsConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("kubelet API: listen on %s: %w", s.cfg.Address, err)
	}
	srv := &http.Server{
		Handler:           s,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		// HTTP/1.1 only: exec, attach and port-forward upgrade the connection,
		// which HTTP/2 cannot.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go s.stats.run(sampleCtx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(ln, tlsCfg)) }()
	s.log.Info("kubelet API listening", "address", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("kubelet API: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	return nil
}

// tlsConfig presents a self-signed certificate kept in TLSDir (the API server does
// not verify it, as upstream's does not without --kubelet-certificate-authority) and
// verifies client certificates against the cluster CA.
func (s *Server) tlsConfig() (*tls.Config, error) {
	ca, err := pki.LoadOrCreateCA(s.cfg.TLSDir, selfSignedCAName, s.cfg.NodeName+"-ca")
	if err != nil {
		return nil, fmt.Errorf("kubelet API: serving CA: %w", err)
	}
	leaf, err := pki.LoadOrIssue(ca, s.cfg.TLSDir, selfSignedCertName, pki.Leaf{
		CommonName: s.cfg.NodeName, DNSNames: []string{s.cfg.NodeName, "localhost"},
		IPs: []net.IP{net.ParseIP("127.0.0.1")}, Server: true})
	if err != nil {
		return nil, fmt.Errorf("kubelet API: serving certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(append(append([]byte{}, leaf.CertPEM...), ca.CertPEM...), leaf.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("kubelet API: load serving certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.cfg.ClientCA) {
		return nil, errors.New("kubelet API: the cluster CA holds no certificate")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}, nil
}

// ServeHTTP authenticates and authorizes, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if code, msg := s.gate.check(r); code != 0 {
		writeText(w, code, msg)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprint(w, msg)
}

func writeJSONBody(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("encode response: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// servePods lists the pods bound to this node, as upstream's /pods does.
func (s *Server) servePods(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Client.CoreV1().Pods("").List(r.Context(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", s.cfg.NodeName).String()})
	if err != nil {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("list the pods of node %s: %v", s.cfg.NodeName, err))
		return
	}
	list.TypeMeta = metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}
	list.ResourceVersion = ""
	writeJSONBody(w, list)
}

// httpError carries the status a failure answers with; the text is the body, as
// upstream's kubelet answers (the API server turns it into the Status message).
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &httpError{code: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &httpError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func writeErr(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		writeText(w, he.code, he.msg)
		return
	}
	writeText(w, http.StatusInternalServerError, err.Error())
}

// getPod reads a pod bound to this node.
func (s *Server) getPod(ctx context.Context, namespace, name, uid string) (*corev1.Pod, error) {
	pod, err := s.cfg.Client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	// The Node authorizer refuses a pod that is not bound to this node.
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return nil, notFound("pod %q does not exist", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", namespace, name, err)
	}
	if pod.Spec.NodeName != s.cfg.NodeName || (uid != "" && string(pod.UID) != uid) {
		return nil, notFound("pod %q does not exist", name)
	}
	return pod, nil
}

// specHas reports whether the pod declares a container of that name.
func specHas(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// runtimeID strips the "containerd://" scheme of a status container ID.
func runtimeID(statusID string) string {
	if i := strings.Index(statusID, containerIDSplitter); i >= 0 {
		return statusID[i+len(containerIDSplitter):]
	}
	return statusID
}
