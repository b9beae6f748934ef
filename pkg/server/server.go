package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/pkg/aggregator"
	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/apiserver"
	"github.com/minik8s/minik8s/pkg/atomicfile"
	"github.com/minik8s/minik8s/pkg/auth/bootstrappolicy"
	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/cluster/etcd"
	"github.com/minik8s/minik8s/pkg/cluster/kubeconfig"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/pkg/memory"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/all"
	"github.com/minik8s/minik8s/pkg/registry/authentication"
	"github.com/minik8s/minik8s/pkg/registry/authorization"
	"github.com/minik8s/minik8s/pkg/registry/core"
	"github.com/minik8s/minik8s/pkg/registry/flowcontrol"
	"github.com/minik8s/minik8s/pkg/registry/scheduling"
	"github.com/minik8s/minik8s/pkg/storage"
)

// Component is one part of the server process, started after the API server is up.
type Component interface {
	Name() string
	// Run works until ctx ends; an error ends the whole server.
	Run(ctx context.Context) error
}

// ComponentFactory builds a component once the control plane's clients exist.
type ComponentFactory func(env *Env) (Component, error)

// Env is what components get: clients for the API server and the configuration.
type Env struct {
	Config *Config
	// Loopback reaches the API server as a cluster admin.
	Loopback *rest.Config
	Logger   *slog.Logger
	// ServerURL is the API server's address for agents and kubeconfigs.
	ServerURL string
	CAPEM     []byte
	Token     string
	CA        *pki.KeyPair
	// ServiceAccountSigner signs service account tokens with the cluster's key.
	ServiceAccountSigner *serviceaccount.Signer
	// Metrics is the API server's registry: components' metrics appear on /metrics.
	Metrics prometheus.Registerer
	// AdvertiseAddress is the address other machines and pods reach this
	// host at (nil when it has none but loopback).
	AdvertiseAddress net.IP
}

var (
	factoriesMu sync.Mutex
	factories   []ComponentFactory
)

// RegisterComponent adds a component every server runs (controllers, agent); the
// packages that provide them register from main.
func RegisterComponent(f ComponentFactory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	factories = append(factories, f)
}

// Run runs the server until ctx ends, then shuts down in order.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	serviceIP, err := firstIP(cfg.ServiceCIDR)
	if err != nil {
		return err
	}
	crt, err := ensureCerts(&cfg, serviceIP)
	if err != nil {
		return err
	}
	token, err := ensureToken(&cfg)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	client, closeEtcd, singleWriter, err := openDatastore(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer closeEtcd()

	signer, err := serviceAccountSigner(&cfg)
	if err != nil {
		return err
	}
	// TokenReviews see the same authenticators as requests; the service account one
	// needs the registry, which it reaches once built.
	tokens := &tokenChain{}
	authz := newAuthorizers(cfg.AuthorizationModes)
	reg, err := all.Build(all.Options{Core: core.Options{ServiceCIDR: cfg.ServiceCIDR},
		Authentication: authentication.Options{Tokens: tokens},
		Authorization:  authorization.Options{Authorizer: authz.Authorizer}})
	if err != nil {
		return err
	}
	enc, err := loadEncryption(&cfg)
	if err != nil {
		return err
	}
	store, err := storage.New(storage.Config{Client: client, Prefix: "/registry", SingleWriter: singleWriter,
		CompactInterval: 5 * time.Minute, Transformers: enc.For, Logger: log.With("component", "storage")})
	if err != nil {
		return err
	}
	if err := registerStorage(store, reg); err != nil {
		return err
	}
	if err := store.Start(ctx); err != nil {
		return err
	}
	stopFeed, err := authz.feed(reg, store)
	if err != nil {
		return err
	}
	defer stopFeed()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(crt.ca.CertPEM)
	serving, err := tls.X509KeyPair(append(append([]byte{}, crt.serving.CertPEM...), crt.ca.CertPEM...), crt.serving.KeyPEM)
	if err != nil {
		return fmt.Errorf("load serving certificate: %w", err)
	}
	addr := net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.HTTPSPort))
	url := "https://" + net.JoinHostPort(clientHost(cfg.BindAddress), strconv.Itoa(cfg.HTTPSPort))
	kubeletClient, err := tls.X509KeyPair(crt.kubeletClient.CertPEM, crt.kubeletClient.KeyPEM)
	if err != nil {
		return fmt.Errorf("load kubelet client certificate: %w", err)
	}
	extra := joinHandlers(crt.ca)
	for p, h := range oidcHandlers(signer) {
		extra[p] = h
	}
	auditor, closeAudit, err := newAuditor(&cfg, log)
	if err != nil {
		return err
	}
	defer closeAudit()
	proxyClient, err := tls.X509KeyPair(crt.frontProxyClient.CertPEM, crt.frontProxyClient.KeyPEM)
	if err != nil {
		return fmt.Errorf("load front proxy client certificate: %w", err)
	}
	loopback := &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAData: crt.ca.CertPEM,
		CertData: crt.loopback.CertPEM, KeyData: crt.loopback.KeyPEM}, QPS: 500, Burst: 1000, UserAgent: "minik8s"}
	agg, err := aggregator.New(aggregator.Config{Loopback: rest.CopyConfig(loopback), ProxyClientCert: proxyClient,
		Logger: log.With("component", "aggregator")})
	if err != nil {
		return err
	}
	tracker, err := lastUsedTracker(loopback, log.With("component", "legacy-token-tracking"))
	if err != nil {
		return err
	}
	var policyReady atomic.Bool
	api, err := apiserver.New(apiserver.Config{
		Store: store, Registry: reg, Address: addr, ServingCert: serving, ClientCA: pool,
		TokenAuthenticators:         tokens.set(staticToken{token: token}, serviceAccountAuthenticator(signer, reg, tracker)),
		DisableAnonymous:            !cfg.AnonymousAuth,
		MaxRequestsInFlight:         cfg.MaxRequestsInFlight,
		MaxMutatingRequestsInFlight: cfg.MaxMutatingRequestsInFlight,
		Authorizer:                  authz.Authorizer,
		WriteGuard:                  authz.Guard,
		DisableAdmissionPlugins:     cfg.DisableAdmissionPlugins,
		EnableAdmissionPlugins:      cfg.EnableAdmissionPlugins,
		ReadyChecks: map[string]func(context.Context) error{"poststarthook/rbac/bootstrap-roles": func(context.Context) error {
			if !policyReady.Load() {
				return errors.New("the bootstrap RBAC policy is not in place yet")
			}
			return nil
		}},
		ServiceAccounts: signer,
		Extra:           extra,
		Unauthenticated: map[string]http.Handler{CACertsPath: caHandler(crt.ca)},
		Connect:         apiserver.NewKubeletConnector(reg, kubeletClient, log),
		Aggregator:      agg,
		Auditor:         auditor,
		Logger:          log.With("component", "apiserver"),
	})
	if err != nil {
		return err
	}
	ln, err := api.Listen()
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- api.Serve(ctx, ln) }()

	// The cluster-wide half of the RBAC policy is written while the namespaces
	// and the rest are; the Roles wait for kube-system and kube-public.
	rbacStart := time.Now()
	policy := bootstrappolicy.Default()
	rbacLog := log.With("component", "rbac-bootstrap")
	clusterWide := make(chan error, 1)
	go func() {
		clusterWide <- reconcileRBAC(ctx, api, bootstrappolicy.Policy{ClusterRoles: policy.ClusterRoles,
			ClusterRoleBindings: policy.ClusterRoleBindings}, rbacLog)
	}()
	err = bootstrap(ctx, api, serviceIP.String(), int32(cfg.HTTPSPort))
	if rerr := <-clusterWide; err == nil && rerr != nil {
		err = fmt.Errorf("bootstrap the RBAC policy: %w", rerr)
	}
	if err != nil {
		return err
	}
	if err := reconcileRBAC(ctx, api, bootstrappolicy.Policy{Roles: policy.Roles, RoleBindings: policy.RoleBindings}, rbacLog); err != nil {
		return fmt.Errorf("bootstrap the RBAC policy: %w", err)
	}
	log.Debug("bootstrap RBAC policy in place", "took", time.Since(rbacStart).Round(time.Millisecond))
	policyReady.Store(true)
	if err := publishAuthenticationConfigMap(ctx, api, crt); err != nil {
		return err
	}
	if err := ensureLegacyTokenTracking(ctx, api, time.Now()); err != nil {
		return err
	}
	if err := reconcileSelf(ctx, api, reg, advertiseAddress(cfg.BindAddress), int32(cfg.HTTPSPort), cfg.ServiceCIDR); err != nil {
		return err
	}
	if ip := net.ParseIP(cfg.BindAddress); ip != nil && ip.IsLoopback() && !cfg.DisableAgent {
		log.Warn("the API server listens on loopback only: pods reach the kubernetes Service at the host's address and get no answer",
			"bindAddress", cfg.BindAddress)
	}
	spec := kubeconfig.Spec{Server: url, CAPEM: crt.ca.CertPEM, Name: "minik8s", CertPEM: crt.admin.CertPEM, KeyPEM: crt.admin.KeyPEM}
	if err := kubeconfig.Write(cfg.kubeconfig(), spec); err != nil {
		return err
	}
	if cfg.WriteKubeconfig != "" && cfg.WriteKubeconfig != cfg.kubeconfig() {
		if err := kubeconfig.Write(cfg.WriteKubeconfig, spec); err != nil {
			return err
		}
	}
	log.Info("minik8s API server is ready", "address", url, "startup", time.Since(start).Round(time.Millisecond))
	kc := cfg.kubeconfig()
	if cfg.WriteKubeconfig != "" {
		kc = cfg.WriteKubeconfig
	}
	fmt.Fprintf(os.Stderr, "minik8s is running. Point kubectl at it with:\n  export KUBECONFIG=%s\n", kc)
	joinToken := JoinToken(crt.ca.CertPEM, token)
	if err := atomicfile.Write(cfg.joinTokenFile(), []byte(joinToken+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Join more nodes with:\n  minik8s agent --server %s --token $(cat %s)\n", url, cfg.joinTokenFile())

	env := &Env{
		Config: &cfg, Logger: log, ServerURL: url, CAPEM: crt.ca.CertPEM, Token: token, CA: crt.ca, Metrics: api.MetricsRegistry(),
		ServiceAccountSigner: signer,
		AdvertiseAddress:     advertiseAddress(cfg.BindAddress),
		Loopback:             loopback,
	}
	compErr := make(chan error, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tracker.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := agg.Run(ctx); err != nil && ctx.Err() == nil {
			compErr <- fmt.Errorf("aggregator: %w", err)
		}
	}()
	factoriesMu.Lock()
	fs := append([]ComponentFactory(nil), factories...)
	factoriesMu.Unlock()
	for _, f := range fs {
		c, err := f(env)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx); err != nil && ctx.Err() == nil {
				compErr <- fmt.Errorf("%s: %w", c.Name(), err)
			}
		}()
	}

	// Start-up is over once everything runs: give its pages back (see package memory).
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
			if st, err := memory.ReleaseStartupPages(); err != nil {
				log.Debug("release start-up memory", "err", err)
			} else {
				log.Debug("released start-up memory", "rssBeforeKiB", st.RSSBeforeKiB, "rssAfterKiB", st.RSSAfterKiB)
			}
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = err
	case err := <-compErr:
		runErr = err
	}
	log.Info("shutting down")
	cancel()
	wg.Wait()
	if err := <-serveErrOrNil(serveErr); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func serveErrOrNil(ch chan error) chan error {
	out := make(chan error, 1)
	select {
	case err := <-ch:
		out <- err
	case <-time.After(6 * time.Second):
		out <- nil
	}
	return out
}

// registerStorage gives every stored resource its storage; versions of one resource
// share it.
func registerStorage(store *storage.Store, reg *registry.Registry) error {
	byPrefix := map[string]*storage.Resource{}
	for _, res := range reg.All() {
		if res.KeyPrefix == "" {
			continue
		}
		if sr := byPrefix[res.KeyPrefix]; sr != nil {
			res.Store = sr
			continue
		}
		sgvk := res.StorageGVK()
		var newFunc = res.New
		if res.Converts() {
			newFunc = newStorageObject(sgvk)
		}
		sr, err := store.Register(storage.ResourceOptions{
			GroupResource: res.GroupResource(), KeyPrefix: res.KeyPrefix, Namespaced: res.Namespaced,
			NewFunc: newFunc, StorageKind: sgvk,
		})
		if err != nil {
			return err
		}
		byPrefix[res.KeyPrefix] = sr
		res.Store = sr
	}
	return nil
}

// bootstrap creates the objects every cluster has: namespaces, priority classes,
// the `kubernetes` Service and the component statuses.
func bootstrap(ctx context.Context, api *apiserver.Server, serviceIP string, port int32) error {
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if err := api.Ensure(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("bootstrap namespace %s: %w", ns, err)
		}
	}
	for _, pc := range scheduling.SystemPriorityClasses() {
		if err := api.Ensure(ctx, pc); err != nil {
			return fmt.Errorf("bootstrap priority class %s: %w", pc.Name, err)
		}
	}
	if err := api.Ensure(ctx, core.KubernetesService(serviceIP, port)); err != nil {
		return fmt.Errorf("bootstrap the kubernetes service: %w", err)
	}
	for _, obj := range flowcontrol.MandatoryConfiguration() {
		if err := api.Ensure(ctx, obj); err != nil {
			return fmt.Errorf("bootstrap flow control %s: %w", obj.(metav1.Object).GetName(), err)
		}
	}
	for _, cs := range core.ComponentStatusObjects() {
		if err := api.Ensure(ctx, cs); err != nil {
			return fmt.Errorf("bootstrap component status %s: %w", cs.Name, err)
		}
	}
	return nil
}

// openDatastore starts embedded etcd or connects to the external cluster.
func openDatastore(ctx context.Context, cfg *Config, log *slog.Logger) (*clientv3.Client, func(), bool, error) {
	if cfg.DatastoreEndpoint == "" {
		e, err := etcd.StartEmbedded(ctx, cfg.etcdDir())
		if err != nil {
			return nil, nil, false, err
		}
		return e.Client, e.Close, true, nil
	}
	var tlsCfg *tls.Config
	if strings.Contains(cfg.DatastoreEndpoint, "https://") {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.DatastoreCAFile != "" {
			pem, err := os.ReadFile(cfg.DatastoreCAFile)
			if err != nil {
				return nil, nil, false, fmt.Errorf("read datastore CA: %w", err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			tlsCfg.RootCAs = pool
		}
		if cfg.DatastoreCertFile != "" {
			c, err := tls.LoadX509KeyPair(cfg.DatastoreCertFile, cfg.DatastoreKeyFile)
			if err != nil {
				return nil, nil, false, fmt.Errorf("load datastore client certificate: %w", err)
			}
			tlsCfg.Certificates = []tls.Certificate{c}
		}
	}
	c, err := etcd.ConnectExternal(ctx, cfg.DatastoreEndpoint, tlsCfg)
	if err != nil {
		return nil, nil, false, err
	}
	log.Info("using external etcd", "endpoints", cfg.DatastoreEndpoint)
	return c, func() { c.Close() }, false, nil
}

// ensureToken returns the join token, generating and keeping one on first start.
func ensureToken(cfg *Config) (string, error) {
	if cfg.Token != "" {
		return cfg.Token, nil
	}
	if data, err := os.ReadFile(cfg.tokenFile()); err == nil {
		if t := strings.TrimSpace(string(data)); t != "" {
			return t, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read token: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	t := hex.EncodeToString(b)
	if err := os.MkdirAll(cfg.credDir(), 0o700); err != nil {
		return "", err
	}
	if err := atomicfile.Write(cfg.tokenFile(), []byte(t+"\n"), 0o600); err != nil {
		return "", err
	}
	return t, nil
}

// tokenChain tries token authenticators in order.
type tokenChain struct {
	list []apiserver.TokenAuthenticator
}

func (t *tokenChain) set(list ...apiserver.TokenAuthenticator) []apiserver.TokenAuthenticator {
	t.list = list
	return list
}

func (t *tokenChain) AuthenticateToken(ctx context.Context, token string) (*apiserver.User, bool, error) {
	for _, a := range t.list {
		if u, ok, err := a.AuthenticateToken(ctx, token); err != nil || ok {
			return u, ok, err
		}
	}
	return nil, false, nil
}

// staticToken authenticates the join token as a node bootstrapper.
type staticToken struct{ token string }

func (s staticToken) AuthenticateToken(_ context.Context, token string) (*apiserver.User, bool, error) {
	if _, secret := ParseJoinToken(token); secret != s.token {
		return nil, false, nil
	}
	return &apiserver.User{Name: "system:node-bootstrap", Groups: []string{bootstrapGroup}}, true, nil
}

func firstIP(cidr string) (net.IP, error) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, fmt.Errorf("service CIDR %q: %w", cidr, err)
	}
	ip := append(net.IP(nil), n.IP.To16()...)
	ip[len(ip)-1]++
	return ip, nil
}

// clientHost is the address clients should dial for a bind address.
func clientHost(bind string) string {
	ip := net.ParseIP(bind)
	if ip == nil || ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return bind
}

func newStorageObject(gvk schema.GroupVersionKind) func() runtime.Object {
	return func() runtime.Object {
		o, err := apis.Scheme.New(gvk)
		if err != nil {
			panic(fmt.Sprintf("storage kind %s not in scheme: %v", gvk, err))
		}
		return o
	}
}
