package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
	"github.com/minik8s/minik8s/pkg/proxy/rules"
)

// Labels that take a Service (and its slices) away from this proxy, as
// kube-proxy's informers select them out.
const (
	labelServiceProxyName = "service.kubernetes.io/service-proxy-name"
	labelHeadless         = "service.kubernetes.io/headless"
	sliceServiceIndex     = "service"
)

// Proxier keeps the node's service rules in line with the API.
type Proxier struct {
	cfg Config
	log *slog.Logger

	factory  informers.SharedInformerFactory
	services corelisters.ServiceLister
	slices   cache.Indexer
	nodes    corelisters.NodeLister
	cidrs    networkinglisters.ServiceCIDRLister
	synced   []cache.InformerSynced

	mu         sync.Mutex
	dirty      map[types.NamespacedName]bool
	cidrsDirty bool // the ServiceCIDRs changed: the base rules with them
	wake       chan struct{}

	// Used by the sync loop only.
	families []*family
	health   *healthChecks
	checks   map[types.NamespacedName]map[uint16]healthCheck
	flows    []udpFlow // stale UDP entries to clear once the rules are in

	installed atomic.Bool
}

// Installed reports whether the rules of every Service have been in the
// kernel once since Run started.
func (p *Proxier) Installed() bool { return p.installed.Load() }

// family is the rules of one address family.
type family struct {
	cfg     *rules.Config
	state   *rules.State
	applied map[types.NamespacedName][]portEndpoints
}

// New builds a proxier; Run starts it.
func New(cfg Config) (*Proxier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	p := &Proxier{cfg: cfg, log: cfg.Log.With("component", "proxy"), dirty: map[types.NamespacedName]bool{},
		wake: make(chan struct{}, 1), checks: map[types.NamespacedName]map[uint16]healthCheck{}}
	p.health = newHealthChecks(cfg.Listen, p.log)

	notOurs, _ := labels.NewRequirement(labelServiceProxyName, selection.DoesNotExist, nil)
	notHeadless, _ := labels.NewRequirement(labelHeadless, selection.DoesNotExist, nil)
	sel := labels.NewSelector().Add(*notOurs, *notHeadless).String()
	p.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
	svcInf := p.factory.Core().V1().Services()
	sliceInf := p.factory.Discovery().V1().EndpointSlices()
	nodeInf := p.factory.Core().V1().Nodes()
	cidrInf := p.factory.Networking().V1().ServiceCIDRs()
	p.services, p.nodes, p.cidrs = svcInf.Lister(), nodeInf.Lister(), cidrInf.Lister()
	for _, inf := range []cache.SharedIndexInformer{svcInf.Informer(), sliceInf.Informer(), nodeInf.Informer(), cidrInf.Informer()} {
		if err := inf.SetTransform(slim); err != nil {
			return nil, fmt.Errorf("proxy informers: %w", err)
		}
	}
	if err := sliceInf.Informer().AddIndexers(cache.Indexers{sliceServiceIndex: sliceService}); err != nil {
		return nil, fmt.Errorf("index endpoint slices: %w", err)
	}
	p.slices = sliceInf.Informer().GetIndexer()
	onService := func(obj any) {
		if key, ok := objectKey(obj); ok {
			p.markDirty(key)
		}
	}
	onSlice := func(obj any) {
		if keys, err := sliceService(tombstoned(obj)); err == nil && len(keys) == 1 {
			ns, name, _ := cache.SplitMetaNamespaceKey(keys[0])
			p.markDirty(types.NamespacedName{Namespace: ns, Name: name})
		}
	}
	handlers := func(f func(any)) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{AddFunc: f, DeleteFunc: f, UpdateFunc: func(old, cur any) {
			if old.(metav1.Object).GetResourceVersion() != cur.(metav1.Object).GetResourceVersion() {
				f(cur)
			}
		}}
	}
	if _, err := svcInf.Informer().AddEventHandler(handlers(onService)); err != nil {
		return nil, err
	}
	if _, err := sliceInf.Informer().AddEventHandler(handlers(onSlice)); err != nil {
		return nil, err
	}
	if _, err := cidrInf.Informer().AddEventHandler(handlers(func(any) { p.markCIDRsDirty() })); err != nil {
		return nil, err
	}
	p.synced = []cache.InformerSynced{svcInf.Informer().HasSynced, sliceInf.Informer().HasSynced, nodeInf.Informer().HasSynced,
		cidrInf.Informer().HasSynced}
	return p, nil
}

// sliceService indexes a slice by its Service (namespace/name).
func sliceService(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + name}, nil
}

func tombstoned(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

func objectKey(obj any) (types.NamespacedName, bool) {
	m, ok := tombstoned(obj).(metav1.Object)
	if !ok {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()}, true
}

func (p *Proxier) markDirty(key types.NamespacedName) {
	p.mu.Lock()
	p.dirty[key] = true
	p.mu.Unlock()
	p.poke()
}

func (p *Proxier) markCIDRsDirty() {
	p.mu.Lock()
	p.cidrsDirty = true
	p.mu.Unlock()
	p.poke()
}

func (p *Proxier) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run programs the rules until ctx ends. It fails at once when the kernel
// has no nftables. The rules stay in the kernel when it returns.
func (p *Proxier) Run(ctx context.Context) error {
	if err := p.cfg.Check(); err != nil {
		return fmt.Errorf("service proxy needs nftables: %w", err)
	}
	defer p.health.close()
	p.factory.Start(ctx.Done())
	defer p.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), p.synced...) {
		return nil // stopped while starting
	}
	node, err := p.waitNode(ctx)
	if err != nil {
		return nil // only a stop ends the wait
	}
	if err := p.setupFamilies(node); err != nil {
		return err
	}
	// Every Service is dirty at first: the first sync replaces the table.
	svcs, err := p.services.List(labels.Everything())
	if err != nil {
		return err
	}
	p.mu.Lock()
	for _, s := range svcs {
		p.dirty[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = true
	}
	p.mu.Unlock()

	full := time.NewTicker(p.cfg.FullSyncPeriod)
	defer full.Stop()
	var retry <-chan time.Time
	for {
		start := time.Now()
		err := p.sync(start)
		var next time.Duration
		if err == nil {
			p.installed.Store(true)
		}
		switch {
		case err != nil:
			p.log.Error("program service rules", "err", err)
			next = p.cfg.RetryPeriod
		case p.hasStale():
			next = rules.StaleChainDelay
		}
		retry = nil
		if next > 0 {
			retry = time.After(next)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-retry:
		case <-full.C:
			for _, f := range p.families {
				f.state.Failed() // the next transaction replaces the table
			}
		}
	}
}

// waitNode waits for this node's Node, which gives its pod ranges.
func (p *Proxier) waitNode(ctx context.Context) (*corev1.Node, error) {
	logged := false
	for {
		n, err := p.nodes.Get(p.cfg.NodeName)
		if err == nil && len(podCIDRs(n)) > 0 {
			return n, nil
		}
		if !logged {
			p.log.Info("waiting for the node's pod CIDR", "node", p.cfg.NodeName)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func podCIDRs(n *corev1.Node) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
		if pr, err := netip.ParsePrefix(s); err == nil {
			out = append(out, pr.Masked())
		}
	}
	return out
}

// setupFamilies makes the rules of IPv4, and of IPv6 on a node with an IPv6
// pod range; traffic from outside the node's pod range is masqueraded.
func (p *Proxier) setupFamilies(node *corev1.Node) error {
	var v4, v6 netip.Prefix
	for _, c := range podCIDRs(node) {
		if c.Addr().Is4() && !v4.IsValid() {
			v4 = c
		} else if c.Addr().Is6() && !v6.IsValid() {
			v6 = c
		}
	}
	add := func(f nft.Family, local netip.Prefix) error {
		rc := &rules.Config{Family: f, Table: p.cfg.Table, MasqueradeBit: p.cfg.MasqueradeBit, LocalCIDR: local,
			LocalhostNodePorts: !p.cfg.NoLocalhostNodePorts, ServiceCIDRs: p.serviceCIDRs(f)}
		if err := rc.Validate(); err != nil {
			return err
		}
		p.families = append(p.families, &family{cfg: rc, state: rules.NewState(rc), applied: map[types.NamespacedName][]portEndpoints{}})
		return nil
	}
	if err := add(nft.IPv4, v4); err != nil {
		return err
	}
	if v6.IsValid() {
		if err := add(nft.IPv6, v6); err != nil {
			return err
		}
	}
	if !p.cfg.NoLocalhostNodePorts {
		// NodePorts on 127.0.0.1 need the kernel to route loopback
		// destinations to other interfaces; the table's input chain drops
		// what others send to 127/8 (kube-proxy's CVE-2020-8558 guard).
		if err := p.cfg.Sysctl("net/ipv4/conf/all/route_localnet", "1"); err != nil {
			return fmt.Errorf("answer NodePorts on localhost: %w", err)
		}
	}
	var addrs []string
	for _, a := range node.Status.Addresses {
		addrs = append(addrs, string(a.Type)+"="+a.Address)
	}
	p.log.Info("service proxy starting", "table", p.cfg.Table, "backend", p.cfg.Backend.Name(), "podCIDRs", podCIDRs(node),
		"nodeAddresses", addrs)
	return nil
}

// serviceCIDRs are the ranges of the ServiceCIDR objects in family f.
func (p *Proxier) serviceCIDRs(f nft.Family) []netip.Prefix {
	objs, err := p.cidrs.List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, o := range objs {
		for _, c := range o.Spec.CIDRs {
			if pr, err := netip.ParsePrefix(c); err == nil && pr.Addr().Is4() == (f == nft.IPv4) {
				out = append(out, pr.Masked())
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out)
}

// updateServiceCIDRs gives each family the current ranges; a family whose
// ranges changed has its table replaced, since they are in its base rules.
func (p *Proxier) updateServiceCIDRs() {
	p.mu.Lock()
	changed := p.cidrsDirty
	p.cidrsDirty = false
	p.mu.Unlock()
	if !changed {
		return
	}
	for _, f := range p.families {
		cidrs := p.serviceCIDRs(f.cfg.Family)
		if !slices.Equal(cidrs, f.cfg.ServiceCIDRs) {
			f.cfg.ServiceCIDRs = cidrs
			f.state.Failed()
		}
	}
}

func (p *Proxier) hasStale() bool {
	for _, f := range p.families {
		if f.state.HasStale() {
			return true
		}
	}
	return false
}

// errNoFamilies guards a sync before Run set the families up.
var errNoFamilies = errors.New("proxy: not started")
