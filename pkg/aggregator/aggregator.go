// Package aggregator is the API server's kube-aggregator: an APIService that
// names a Service makes the server proxy /apis/<group>/<version> to that
// extension API server. It resolves the Service to a ready endpoint itself (as
// upstream's --enable-aggregator-routing, so no service proxy is needed),
// verifies it with the APIService's caBundle, presents the front-proxy client
// certificate and passes the caller's identity in X-Remote-* headers. A
// controller keeps each APIService's Available condition and the extension's
// discovery document, which the API server merges into /apis.
package aggregator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	apiproxy "k8s.io/apiserver/pkg/util/proxy"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggclient "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	agginformers "k8s.io/kube-aggregator/pkg/client/informers/externalversions"
	apiservicelisters "k8s.io/kube-aggregator/pkg/client/listers/apiregistration/v1"
)

// Config configures the aggregator.
type Config struct {
	// Loopback reaches this API server (informers and status updates).
	Loopback *rest.Config
	// ProxyClientCert is presented to extension API servers: the front-proxy
	// client certificate their requestheader CA trusts.
	ProxyClientCert tls.Certificate
	// Resync is how often an available APIService is checked again.
	Resync time.Duration
	Logger *slog.Logger
}

// Validate reports missing settings.
func (c *Config) Validate() error {
	switch {
	case c.Loopback == nil:
		return errors.New("aggregator: no loopback client configuration")
	case len(c.ProxyClientCert.Certificate) == 0:
		return errors.New("aggregator: no proxy client certificate")
	}
	return nil
}

// Aggregator proxies the group versions extension API servers serve.
type Aggregator struct {
	cfg        Config
	log        *slog.Logger
	kube       kubernetes.Interface
	agg        aggclient.Interface
	kubeInf    informers.SharedInformerFactory
	aggInf     agginformers.SharedInformerFactory
	apiService apiservicelisters.APIServiceLister
	services   corelisters.ServiceLister
	slices     apiproxy.EndpointSliceGetter
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]

	mu         sync.Mutex
	transports map[string]cachedTransport // by APIService name
	discovery  map[string]GroupVersion    // by APIService name
	onChange   []func()
}

// New builds the aggregator; Run starts it.
func New(cfg Config) (*Aggregator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	kube, err := kubernetes.NewForConfig(cfg.Loopback)
	if err != nil {
		return nil, fmt.Errorf("aggregator: kubernetes client: %w", err)
	}
	agg, err := aggclient.NewForConfig(cfg.Loopback)
	if err != nil {
		return nil, fmt.Errorf("aggregator: apiregistration client: %w", err)
	}
	a := &Aggregator{cfg: cfg, log: cfg.Logger, kube: kube, agg: agg,
		kubeInf:    informers.NewSharedInformerFactory(kube, 0),
		aggInf:     agginformers.NewSharedInformerFactory(agg, 0),
		transports: map[string]cachedTransport{}, discovery: map[string]GroupVersion{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "apiservice-availability"}),
	}
	apiServices := a.aggInf.Apiregistration().V1().APIServices()
	services := a.kubeInf.Core().V1().Services()
	slices := a.kubeInf.Discovery().V1().EndpointSlices()
	a.apiService = apiServices.Lister()
	a.services = services.Lister()
	if a.slices, err = apiproxy.NewEndpointSliceIndexerGetter(slices); err != nil {
		return nil, fmt.Errorf("aggregator: endpoint slice index: %w", err)
	}
	a.synced = []cache.InformerSynced{apiServices.Informer().HasSynced, services.Informer().HasSynced, slices.Informer().HasSynced}
	a.watch(apiServices.Informer(), services.Informer(), slices.Informer())
	return a, nil
}

// OnChange registers fn to run when the extensions' discovery changes.
func (a *Aggregator) OnChange(fn func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.onChange = append(a.onChange, fn)
}

func (a *Aggregator) changed() {
	a.mu.Lock()
	fns := append([]func(){}, a.onChange...)
	a.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Run follows APIServices, Services and EndpointSlices and keeps the
// APIServices' availability until ctx ends.
func (a *Aggregator) Run(ctx context.Context) error {
	a.kubeInf.Start(ctx.Done())
	a.aggInf.Start(ctx.Done())
	defer a.kubeInf.Shutdown()
	defer a.aggInf.Shutdown()
	return a.runAvailability(ctx)
}

// lookup returns the APIService serving group/version through a Service, or
// nil when the group version is local or unknown.
func (a *Aggregator) lookup(group, version string) *apiregistrationv1.APIService {
	svc, err := a.apiService.Get(version + "." + group)
	if err != nil || svc.Spec.Service == nil {
		return nil
	}
	return svc
}

// Handler returns the handler that proxies requests for group/version to its
// extension API server, or nil when this server answers them itself.
func (a *Aggregator) Handler(group, version string) http.Handler {
	svc := a.lookup(group, version)
	if svc == nil {
		return nil
	}
	return &proxy{a: a, apiService: svc}
}

// isAvailable reports the APIService's Available condition.
func isAvailable(s *apiregistrationv1.APIService) bool {
	for _, c := range s.Status.Conditions {
		if c.Type == apiregistrationv1.Available {
			return c.Status == apiregistrationv1.ConditionTrue
		}
	}
	return false
}
