// Package kubelet is the node agent: it runs containerd (or uses a given CRI
// runtime), registers the Node, sets up the pod network and runs the pods bound to
// the node. It reaches the control plane only through the API with its own
// credentials, the same from the server's process as from another machine.
package kubelet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/images"
	"github.com/minik8s/minik8s/pkg/kubelet/clientcert"
	"github.com/minik8s/minik8s/pkg/kubelet/cni"
	"github.com/minik8s/minik8s/pkg/kubelet/containerd"
	"github.com/minik8s/minik8s/pkg/kubelet/cri"
	"github.com/minik8s/minik8s/pkg/kubelet/envvars"
	"github.com/minik8s/minik8s/pkg/kubelet/imageimport"
	"github.com/minik8s/minik8s/pkg/kubelet/logs"
	"github.com/minik8s/minik8s/pkg/kubelet/metrics"
	"github.com/minik8s/minik8s/pkg/kubelet/node"
	"github.com/minik8s/minik8s/pkg/kubelet/pods"
	"github.com/minik8s/minik8s/pkg/kubelet/prober"
	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
	"github.com/minik8s/minik8s/pkg/kubelet/volumes"
	"github.com/minik8s/minik8s/pkg/memory"
	"github.com/minik8s/minik8s/pkg/netpol"
	"github.com/minik8s/minik8s/pkg/proxy"
)

// Config configures the agent.
type Config struct {
	NodeName string
	// Dir is the agent's state directory (<data-dir>/agent).
	Dir string
	// REST reaches the API server with the node's credentials.
	REST *rest.Config
	// ContainerRuntimeEndpoint names an existing CRI socket; empty runs containerd.
	ContainerRuntimeEndpoint string
	// Bridge names the pod network's bridge (cni0 by default).
	Bridge string
	// KubeletPort is where the node's API listens (10250 by default).
	KubeletPort int
	// Logs says when containers' log files are rotated; the zero value takes
	// upstream's defaults (10 MiB, 5 files).
	Logs          logs.Policy
	ClusterDNS    []string
	ClusterDomain string
	// Labels are added to the Node; NodeRestriction lets a node set only the
	// kubelet labels on itself, not roles.
	Labels         map[string]string
	KubeletVersion string
	// Extend lets other packages add to the pod manager (volumes, env, probes…).
	Extend func(*pods.Config) error
	// Serve starts the kubelet API (logs, exec, stats) once the runtime is up.
	Serve func(ctx context.Context, a *Agent) error
	// ProxyREST reaches the API server as the service proxy (system:kube-proxy,
	// which may watch EndpointSlices); nil uses REST.
	ProxyREST *rest.Config
	// DisableProxy leaves Services to another proxy on this node.
	DisableProxy bool
	// DisableNetworkPolicy leaves NetworkPolicies unenforced on this node (or
	// to another enforcer), as k3s's --disable-network-policy.
	DisableNetworkPolicy bool
	// RotateClientCertificate renews the node's client certificate in
	// Dir/tls before it expires (upstream's rotateCertificates); REST must
	// then read it from those files, so new connections take the new one.
	RotateClientCertificate bool
	Logger                  *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.NodeName == "" || strings.ToLower(c.NodeName) != c.NodeName {
		return fmt.Errorf("node name %q must be non-empty lower case", c.NodeName)
	}
	if c.Dir == "" || c.REST == nil {
		return errors.New("agent: data dir and API credentials are required")
	}
	return nil
}

// Agent is a running node agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	Client  kubernetes.Interface
	Runtime *cri.Client
	Pods    *pods.Manager
	Node    *node.Node
	Options *runtime.Options
	// Metrics are the agent's own, served by the kubelet API.
	Metrics *metrics.Metrics
}

// New checks the configuration; Run starts everything.
func New(cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	if cfg.KubeletPort == 0 {
		cfg.KubeletPort = node.KubeletPort
	}
	if cfg.Logs == (logs.Policy{}) {
		cfg.Logs = logs.Policy{MaxSize: logs.DefaultMaxSize, MaxFiles: logs.DefaultMaxFiles}
	}
	if err := cfg.Logs.Validate(); err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, log: cfg.Logger.With("component", "agent", "node", cfg.NodeName)}, nil
}

// Run works until ctx ends. Pods keep running after it returns.
func (a *Agent) Run(ctx context.Context) error {
	if err := os.MkdirAll(a.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("create agent dir: %w", err)
	}
	client, err := kubernetes.NewForConfig(a.cfg.REST)
	if err != nil {
		return fmt.Errorf("agent client: %w", err)
	}
	a.Client = client
	if a.cfg.RotateClientCertificate {
		m, err := clientcert.New(clientcert.Config{NodeName: a.cfg.NodeName, Dir: filepath.Join(a.cfg.Dir, "tls"), Client: client, Log: a.log})
		if err != nil {
			return err
		}
		go func() {
			if err := m.Run(ctx); err != nil {
				a.log.Error("client certificate rotation stopped", "err", err)
			}
		}()
	}

	// The runtime: our own containerd unless told to use another.
	endpoint := a.cfg.ContainerRuntimeEndpoint
	cgroupDriver := string(containerd.DetectCgroups().Driver())
	netCfg := cni.DefaultConfig(a.cfg.Dir, "")
	if a.cfg.Bridge != "" && a.cfg.Bridge != netCfg.BridgeName {
		netCfg.BridgeName = a.cfg.Bridge
		netCfg.NetworkName = "minik8s-" + a.cfg.Bridge
	}
	errc := make(chan error, 4)
	if endpoint == "" {
		ccfg := containerd.DefaultConfig(a.cfg.Dir)
		ccfg.CNIBinDir = netCfg.BinDir
		ccfg.CNIConfDir = netCfg.ConfDir()
		sup, err := containerd.New(ccfg, a.log)
		if err != nil {
			return err
		}
		go func() { errc <- sup.Run(ctx) }()
		waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = waitEither(waitCtx, sup.WaitReady, errc)
		cancel()
		if err != nil {
			return fmt.Errorf("start containerd: %w", err)
		}
		endpoint = sup.Endpoint()
		cgroupDriver = string(sup.CgroupDriver())
	}
	rt, err := cri.Dial(endpoint, cri.Options{})
	if err != nil {
		return err
	}
	defer rt.Close()
	a.Runtime = rt
	version := ""
	if v, err := rt.Version(ctx); err == nil {
		version = v.RuntimeName + "://" + v.RuntimeVersion
	}
	go a.importImages(ctx, endpoint)
	if a.Metrics, err = metrics.New(metrics.Config{NodeName: a.cfg.NodeName, Runtime: rt}); err != nil {
		return err
	}

	n, err := node.New(node.Config{
		Name: a.cfg.NodeName, Client: client, Labels: a.cfg.Labels, DataDir: a.cfg.Dir,
		KubeletVersion: a.cfg.KubeletVersion, Logger: a.log, KubeletPort: a.cfg.KubeletPort,
		RuntimeVersion: func(context.Context) string { return version },
		Images:         a.nodeImages,
		Ready:          a.ready,
	})
	if err != nil {
		return err
	}
	a.Node = n
	if _, err := n.Register(ctx); err != nil {
		return err
	}
	podCIDR, err := a.waitPodCIDR(ctx)
	if err != nil {
		return err
	}
	netCfg.PodCIDR = podCIDR
	network, err := cni.New(netCfg, a.log)
	if err != nil {
		return err
	}
	if err := network.Setup(); err != nil {
		return err
	}
	gw, err := netCfg.Gateway()
	if err != nil {
		return err
	}
	n.SetInternalIP(gw.IP.String())
	if err := n.UpdateStatus(ctx); err != nil {
		a.log.Info("report node status", "err", err)
	}
	go n.Run(ctx)
	if !a.cfg.DisableProxy {
		px, err := a.newProxy()
		if err != nil {
			return err
		}
		go func() {
			if err := px.Run(ctx); err != nil {
				errc <- err
			}
		}()
	}

	var policies *netpol.Enforcer
	if !a.cfg.DisableNetworkPolicy {
		if policies, err = a.newNetworkPolicy(); err != nil {
			return err
		}
		go func() {
			if err := policies.Run(ctx); err != nil {
				errc <- err
			}
		}()
	}

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(apis.Scheme, corev1.EventSource{Component: "kubelet", Host: a.cfg.NodeName})

	a.Options = &runtime.Options{
		NodeName: a.cfg.NodeName, LogRoot: filepath.Join(a.cfg.Dir, "logs", "pods"), CgroupDriver: cgroupDriver,
		ClusterDNS: a.cfg.ClusterDNS, ClusterDomain: a.cfg.ClusterDomain, ResolvConf: runtime.HostResolvConf(),
		DNSWarning: func(pod *corev1.Pod, w runtime.DNSWarning) {
			recorder.Event(pod, corev1.EventTypeWarning, w.Reason, w.Message)
		},
	}
	// Services, for the service-link environment variables.
	svcFactory := informers.NewSharedInformerFactory(client, 0)
	svcLister := svcFactory.Core().V1().Services().Lister()
	svcFactory.Start(ctx.Done())
	defer svcFactory.Shutdown()
	vols, err := volumes.New(volumes.Config{Dir: filepath.Join(a.cfg.Dir, "pods"), Client: client,
		ClusterDomain: a.cfg.ClusterDomain, Allocatable: n.Allocatable})
	if err != nil {
		return err
	}
	pcfg := pods.Config{
		NodeName: a.cfg.NodeName, NodeIP: gw.IP.String(), Client: client, Runtime: rt, Options: a.Options,
		Recorder: recorder, Volumes: vols,
		Env:    &envvars.Resolver{Client: client, Services: svcLister, Allocatable: n.Allocatable, Recorder: recorder},
		Images: pods.NewImages(rt, recorder, pods.NewPullSecrets(client, recorder, a.log)), Logger: a.log,
		Metrics: a.Metrics,
	}
	if policies != nil {
		pcfg.NetworkPolicy = policies
	}
	checker := &prober.Checker{Runtime: rt, UserAgent: "kube-probe/" + probeVersion(a.cfg.KubeletVersion)}
	probes := prober.NewManager(ctx, checker, recorder)
	probes.Metrics = a.Metrics
	pcfg.Prober = probes
	pcfg.Hooks = &prober.Hooks{Checker: checker, Runtime: rt, HostIP: gw.IP.String(), Recorder: recorder}
	if a.cfg.Extend != nil {
		if err := a.cfg.Extend(&pcfg); err != nil {
			return err
		}
	}
	a.Pods = pods.NewManager(pcfg)
	probes.Wake = a.Pods.Wake
	go a.Pods.Run(ctx)

	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.cfg.NodeName).String()
		}))
	inf := factory.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { a.Pods.Update(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj interface{}) { a.Pods.Update(obj.(*corev1.Pod)) },
		DeleteFunc: func(obj interface{}) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				a.Pods.Removed(p)
			}
		},
	})
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return ctx.Err()
	}
	go a.Pods.Relist(ctx, func(uid types.UID, _ []string) { a.Pods.RemoveOrphan(ctx, uid) })
	rotator, err := logs.NewRotator(rt, a.cfg.Logs, a.log)
	if err != nil {
		return err
	}
	go rotator.Run(ctx, logs.DefaultPeriod)
	if a.cfg.Serve != nil {
		go func() { errc <- a.cfg.Serve(ctx, a) }()
	}
	a.log.Info("node agent ready", "podCIDR", podCIDR, "nodeIP", gw.IP.String(), "runtime", version)
	select {
	case <-ctx.Done():
		factory.Shutdown()
		return nil
	case err := <-errc:
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}

// newProxy builds the node's service proxy with its own identity.
func (a *Agent) newProxy() (*proxy.Proxier, error) {
	restCfg := a.cfg.ProxyREST
	if restCfg == nil {
		restCfg = a.cfg.REST
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, fmt.Errorf("service proxy client: %w", err)
	}
	return proxy.New(proxy.Config{Client: client, NodeName: a.cfg.NodeName, Table: proxy.TableFor(a.cfg.Bridge), Log: a.log})
}

// newNetworkPolicy builds the node's NetworkPolicy enforcer, which watches
// with the service proxy's identity.
func (a *Agent) newNetworkPolicy() (*netpol.Enforcer, error) {
	restCfg := a.cfg.ProxyREST
	if restCfg == nil {
		restCfg = a.cfg.REST
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, fmt.Errorf("network policy client: %w", err)
	}
	return netpol.New(netpol.Config{Client: client, NodeName: a.cfg.NodeName, Table: netpol.TableFor(a.cfg.Bridge), Log: a.log})
}

func waitEither(ctx context.Context, wait func(context.Context) error, errc chan error) error {
	done := make(chan error, 1)
	go func() { done <- wait(ctx) }()
	select {
	case err := <-done:
		return err
	case err := <-errc:
		if err == nil {
			err = errors.New("exited")
		}
		return err
	}
}

// waitPodCIDR waits until the control plane has given this node its pod range.
func (a *Agent) waitPodCIDR(ctx context.Context) (string, error) {
	nodes := a.Client.CoreV1().Nodes()
	for {
		n, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("get node: %w", err)
		}
		if n.Spec.PodCIDR != "" {
			return n.Spec.PodCIDR, nil
		}
		w, err := nodes.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", a.cfg.NodeName).String(),
			ResourceVersion: n.ResourceVersion, TimeoutSeconds: ptrInt64(30)})
		if err != nil {
			return "", fmt.Errorf("watch node: %w", err)
		}
		for ev := range w.ResultChan() {
			if nn, ok := ev.Object.(*corev1.Node); ok && ev.Type == watch.Modified && nn.Spec.PodCIDR != "" {
				w.Stop()
				return nn.Spec.PodCIDR, nil
			}
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

func ptrInt64(v int64) *int64 { return &v }

// importImages imports the pause image and the airgap folder's tarballs.
func (a *Agent) importImages(ctx context.Context, endpoint string) {
	sock := strings.TrimPrefix(endpoint, "unix://")
	im, err := imageimport.New(imageimport.Config{Socket: sock}, a.Runtime, a.log)
	if err != nil {
		a.log.Warn("image import unavailable", "err", err)
		return
	}
	tarball, name := images.PauseImage()
	if _, _, err := im.ImportBytes(ctx, tarball, name); err != nil {
		a.log.Error("import pause image", "err", err)
	}
	imported, err := im.ImportDir(ctx, filepath.Join(a.cfg.Dir, "images"))
	if err != nil {
		a.log.Warn("import images folder", "err", err)
	}
	if imported.Imported > 0 {
		// Reading tarballs leaves megabytes of garbage the runtime would hand back
		// only minutes later; an idle node should not carry it.
		_, _ = memory.ReleaseStartupPages()
	}
}

func (a *Agent) nodeImages(ctx context.Context) []corev1.ContainerImage {
	imgs, err := a.Runtime.ListImages(ctx, nil)
	if err != nil {
		return nil
	}
	var out []corev1.ContainerImage
	for _, im := range imgs {
		names := append(append([]string{}, im.RepoDigests...), im.RepoTags...)
		if len(names) == 0 {
			continue
		}
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: int64(im.Size)})
		if len(out) == 50 {
			break
		}
	}
	return out
}

// ready is the node's Ready condition: the runtime answers and its network is up.
func (a *Agent) ready(ctx context.Context) error {
	st, err := a.Runtime.Status(ctx, false)
	if err != nil {
		return fmt.Errorf("container runtime is down: %v", err)
	}
	for _, c := range st.GetStatus().GetConditions() {
		if !c.Status && (c.Type == runtimeapi.RuntimeReady || c.Type == runtimeapi.NetworkReady) {
			return fmt.Errorf("container runtime network not ready: %s=false reason:%s message:%s", c.Type, c.Reason, c.Message)
		}
	}
	return nil
}

// probeVersion is "major.minor" of the kubelet version, as upstream's probe
// User-Agent ("kube-probe/1.34") carries.
func probeVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
