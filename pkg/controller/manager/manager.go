// Package manager runs the in-process controllers as one server component, like
// upstream's kube-controller-manager: one list of controllers (Descriptors), each
// built by one constructor from a shared ControllerContext (clients, one typed and
// one metadata informer factory, an events.k8s.io recorder), then all run
// together until the server stops. --disable-controllers turns single ones off.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/events"
	metricsclientset "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/minik8s/minik8s/pkg/controller/servicelb"
	"github.com/minik8s/minik8s/pkg/leader"
	"github.com/minik8s/minik8s/pkg/server"
)

// resync is how often informers replay their caches to the controllers, which
// catches anything a controller dropped. Upstream picks 12-24h.
const resync = 12 * time.Hour

// Manager is the controller-manager component.
type Manager struct {
	client   kubernetes.Interface
	metadata metadata.Interface
	rest     *rest.Config
	cfg      Config
	log      *slog.Logger
}

// disabled is --disable-controllers, plus the service load balancer under
// --disable servicelb.
func disabled(c *server.Config) []string {
	out := append([]string{}, c.DisableControllers...)
	if c.Disabled(server.ComponentServiceLB) {
		out = append(out, servicelb.Name)
	}
	return out
}

// Factory builds the manager from the server's loopback credentials.
func Factory(env *server.Env) (server.Component, error) {
	cfg := Config{ClusterCIDR: env.Config.ClusterCIDR, NodeCIDRMaskSize: 24, ServiceCIDR: env.Config.ServiceCIDR,
		CAPEM: env.CAPEM, CA: env.CA, ServiceAccountSigner: env.ServiceAccountSigner, Disabled: disabled(env.Config), TerminatedPodGCThreshold: env.Config.TerminatedPodGCThreshold,
		NodeMonitorPeriod: env.Config.NodeMonitorPeriod, NodeMonitorGracePeriod: env.Config.NodeMonitorGracePeriod,
		HPASyncPeriod: env.Config.HPASyncPeriod, SigningDuration: env.Config.ClusterSigningDuration,
		LegacyTokenCleanUpPeriod: env.Config.LegacyTokenCleanUpPeriod, LeaderElect: !env.Config.DisableLeaderElection, Identity: identity(env.ServerURL)}
	return New(env.Loopback, cfg, env.Logger.With("component", "controller-manager"))
}

// New builds the manager for any cluster reachable with rc as a cluster admin:
// the server's loopback, or a kubeconfig (`minik8s controller-manager`).
func New(loopback *rest.Config, cfg Config, log *slog.Logger) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rc := *loopback
	rc.UserAgent = "minik8s-controller-manager"
	// Deprecation warnings are for users; the collector lists every resource.
	rc.WarningHandler = rest.NoWarnings{}
	client, err := kubernetes.NewForConfig(&rc)
	if err != nil {
		return nil, fmt.Errorf("controller client: %w", err)
	}
	md, err := metadata.NewForConfig(&rc)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	return &Manager{client: client, metadata: md, rest: &rc, cfg: cfg, log: log}, nil
}

// Name implements server.Component.
func (m *Manager) Name() string { return "controller-manager" }

// Run builds every enabled controller, starts the informers they asked for, runs
// them all, and waits for ctx. A controller's error stops the others. With
// leader election, all of that happens only while this server holds the Lease.
func (m *Manager) Run(ctx context.Context) error {
	work := func(ctx context.Context) error {
		return run(ctx, m.client, m.metadata, m.rest, m.cfg, Descriptors(), m.log)
	}
	if !m.cfg.LeaderElect {
		return work(ctx)
	}
	return campaign(ctx, m.client, m.cfg, work, m.log)
}

// LeaseName is the Lease the controllers are elected by, as upstream's.
const LeaseName = "kube-controller-manager"

// campaign runs work whenever this server holds the Lease. Upstream's
// controller manager exits when it loses its Lease and is restarted; here the
// API server lives in the same process, so the controllers stop (every one of
// them, through their context) and the server stands by again.
func campaign(ctx context.Context, client kubernetes.Interface, cfg Config, work func(context.Context) error, log *slog.Logger) error {
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return fmt.Errorf("start leader election event recording: %w", err)
	}
	defer broadcaster.Shutdown()
	lc := leader.Config{Client: client.CoordinationV1(), Namespace: metav1.NamespaceSystem, Name: LeaseName,
		Identity: cfg.Identity, LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
		Recorder: broadcaster.NewRecorder(scheme.Scheme, "kube-controller-manager"), Log: log}
	for {
		err := leader.Run(ctx, lc, work)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, leader.ErrLost):
			log.Info("controllers stopped: leader lease lost; standing by")
		default:
			return err
		}
	}
}

// identity names this server in the Lease: host name and API server address,
// as the scheduler's. Upstream adds a random suffix instead; a stable name lets
// a server restarted after a crash take its own Lease back at once rather than
// wait for it to expire, and two servers of one cluster differ in one or the
// other.
func identity(serverURL string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "minik8s"
	}
	return host + "_" + serverURL
}

// run is Run for any list of controllers, so tests can give their own. rc,
// when given, builds the scale and metrics clients.
func run(ctx context.Context, client kubernetes.Interface, md metadata.Interface, rc *rest.Config, cfg Config, descs []Descriptor, log *slog.Logger) error {
	disabled, err := disabledSet(descs, cfg.Disabled)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return fmt.Errorf("start event recording: %w", err)
	}
	defer broadcaster.Shutdown()
	base := ControllerContext{
		Client: client, Metadata: md, Config: cfg,
		Discovery:         memory.NewMemCacheClient(client.Discovery()),
		Informers:         informers.NewSharedInformerFactoryWithOptions(client, resync, informers.WithTransform(dropManagedFields)),
		MetadataInformers: metadatainformer.NewSharedInformerFactoryWithOptions(md, resync, metadatainformer.WithTransform(dropManagedFields)),
		events:            broadcaster,
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(base.Discovery)
	base.RESTMapper = mapper
	if rc != nil {
		scales, err := scale.NewForConfig(rc, mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(client.Discovery()))
		if err != nil {
			return fmt.Errorf("scale client: %w", err)
		}
		mc, err := metricsclientset.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("metrics client: %w", err)
		}
		base.Scales, base.ResourceMetrics = scales, mc.MetricsV1beta1()
	}
	type built struct {
		name string
		r    Runnable
	}
	var controllers []built
	for _, d := range descs {
		if disabled[d.Name] {
			log.Info("controller disabled", "controller", d.Name)
			continue
		}
		cc := base
		cc.Log = log.With("controller", d.Name)
		r, err := d.New(cc)
		if err != nil {
			return fmt.Errorf("build %s: %w", d.Name, err)
		}
		if r != nil {
			controllers = append(controllers, built{d.Name, r})
		}
	}
	base.Informers.Start(ctx.Done())
	base.MetadataInformers.Start(ctx.Done())
	defer base.MetadataInformers.Shutdown()
	defer base.Informers.Shutdown()

	errc := make(chan error, len(controllers))
	var wg sync.WaitGroup
	for _, c := range controllers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.r.Run(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", c.name, err)
			}
		}()
	}
	log.Info("controllers started", "count", len(controllers))
	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	cancel()
	wg.Wait()
	return err
}
