package netpol

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// Enforcer keeps the node's policy tables in line with the API.
type Enforcer struct {
	cfg Config
	log *slog.Logger

	factory    informers.SharedInformerFactory
	policies   networkinglisters.NetworkPolicyLister
	pods       corelisters.PodLister
	namespaces corelisters.NamespaceLister
	synced     []cache.InformerSynced
	wake       chan struct{}

	mu sync.Mutex
	// starting holds local pods the kubelet announced with their addresses
	// before their status carries them.
	starting map[types.UID]*corev1.Pod
	// wanted counts changes asked for; done is the count the kernel has
	// caught up with, and doneCh is closed (and replaced) when it moves.
	wanted, done uint64
	doneCh       chan struct{}
	// inKernel has the addresses of each local pod as the kernel's rules
	// know them.
	inKernel map[types.UID]string

	// Used by the sync loop only: the text of each family's table in the
	// kernel ("" for none), and the problems last reported.
	applied   map[nft.Family]string
	v6Cleared bool
	lastErrs  string

	installed atomic.Bool
}

// New builds an enforcer; Run starts it.
func New(cfg Config) (*Enforcer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	e := &Enforcer{cfg: cfg, log: cfg.Log.With("component", "network-policy"), wake: make(chan struct{}, 1),
		starting: map[types.UID]*corev1.Pod{}, doneCh: make(chan struct{}), applied: map[nft.Family]string{}}
	e.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithTransform(func(obj any) (any, error) {
			// Only selectors' inputs matter; managed fields are the bulk of a pod.
			if m, ok := obj.(metav1.Object); ok {
				m.SetManagedFields(nil)
			}
			return obj, nil
		}))
	polInf := e.factory.Networking().V1().NetworkPolicies()
	podInf := e.factory.Core().V1().Pods()
	nsInf := e.factory.Core().V1().Namespaces()
	e.policies, e.pods, e.namespaces = polInf.Lister(), podInf.Lister(), nsInf.Lister()
	handlers := []struct {
		inf      cache.SharedIndexInformer
		relevant func(old, cur any) bool
	}{
		{polInf.Informer(), func(old, cur any) bool {
			return old.(metav1.Object).GetResourceVersion() != cur.(metav1.Object).GetResourceVersion()
		}},
		{podInf.Informer(), func(old, cur any) bool { return podChanged(old.(*corev1.Pod), cur.(*corev1.Pod)) }},
		{nsInf.Informer(), func(old, cur any) bool {
			return !reflect.DeepEqual(old.(*corev1.Namespace).Labels, cur.(*corev1.Namespace).Labels)
		}},
	}
	for _, h := range handlers {
		relevant := h.relevant
		if _, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { e.changed() },
			UpdateFunc: func(old, cur any) {
				if relevant(old, cur) {
					e.changed()
				}
			},
			DeleteFunc: func(obj any) {
				if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = t.Obj
				}
				if p, ok := obj.(*corev1.Pod); ok {
					e.mu.Lock()
					delete(e.starting, p.UID)
					e.mu.Unlock()
				}
				e.changed()
			},
		}); err != nil {
			return nil, fmt.Errorf("network policy: watch: %w", err)
		}
		e.synced = append(e.synced, h.inf.HasSynced)
	}
	return e, nil
}

// podChanged reports whether an update changes what the rules are made of.
func podChanged(old, cur *corev1.Pod) bool {
	return !reflect.DeepEqual(old.Labels, cur.Labels) || !reflect.DeepEqual(old.Status.PodIPs, cur.Status.PodIPs) ||
		old.Status.PodIP != cur.Status.PodIP || old.Status.Phase != cur.Status.Phase || old.Spec.NodeName != cur.Spec.NodeName
}

// Installed reports whether the rules have been in the kernel once since Run started.
func (e *Enforcer) Installed() bool { return e.installed.Load() }

func (e *Enforcer) changed() uint64 {
	e.mu.Lock()
	e.wanted++
	gen := e.wanted
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return gen
}

// PodStarting tells the enforcer a local pod's addresses before its first
// container starts, and returns once the rules that apply to it are in the
// kernel: its first packet is already judged by them. pod carries the
// addresses in its status.
func (e *Enforcer) PodStarting(ctx context.Context, pod *corev1.Pod) error {
	if pod.Spec.HostNetwork || len(pod.Status.PodIPs) == 0 && pod.Status.PodIP == "" {
		return nil
	}
	e.mu.Lock()
	if e.inKernel[pod.UID] == addrsKey(pod) {
		// A container restart in a sandbox the rules already know.
		e.mu.Unlock()
		return nil
	}
	e.starting[pod.UID] = pod.DeepCopy()
	e.mu.Unlock()
	want := e.changed()
	for {
		e.mu.Lock()
		done, ch := e.done, e.doneCh
		e.mu.Unlock()
		if done >= want {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("network policy rules for pod %s/%s not installed: %w", pod.Namespace, pod.Name, ctx.Err())
		}
	}
}

func sameAddrs(a, b *corev1.Pod) bool { return addrsKey(a) == addrsKey(b) }

// addrsKey renders the pod's addresses, "" when it has none.
func addrsKey(p *corev1.Pod) string {
	var ips []string
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = append(ips, p.Status.PodIP)
	}
	return strings.Join(ips, ",")
}

// Run programs the rules until ctx ends. It fails at once when the kernel
// has no nftables. The rules stay in the kernel when it returns: pods keep
// their isolation across a restart of the agent.
func (e *Enforcer) Run(ctx context.Context) error {
	if err := e.cfg.Check(); err != nil {
		return fmt.Errorf("network policy needs nftables: %w", err)
	}
	e.factory.Start(ctx.Done())
	defer e.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), e.synced...) {
		return nil // stopped while starting
	}
	e.log.Info("network policy enforcer starting", "table", e.cfg.Table, "backend", e.cfg.Backend.Name())
	full := time.NewTicker(e.cfg.FullSyncPeriod)
	defer full.Stop()
	e.changed()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-retry:
		case <-full.C:
			e.applied = map[nft.Family]string{} // install everything again
		}
		retry = nil
		if err := e.sync(); err != nil {
			e.log.Error("program network policy rules", "err", err)
			retry = time.After(e.cfg.RetryPeriod)
			continue
		}
		e.installed.Store(true)
	}
}

// sync computes the tables and replaces those that changed, each in one
// transaction.
func (e *Enforcer) sync() error {
	e.mu.Lock()
	gen := e.wanted
	starting := make(map[types.UID]*corev1.Pod, len(e.starting))
	for uid, p := range e.starting {
		starting[uid] = p
	}
	e.mu.Unlock()

	in := Input{NodeName: e.cfg.NodeName}
	var err error
	if in.Policies, err = e.policies.List(labels.Everything()); err != nil {
		return fmt.Errorf("list network policies: %w", err)
	}
	if in.Namespaces, err = e.namespaces.List(labels.Everything()); err != nil {
		return fmt.Errorf("list namespaces: %w", err)
	}
	pods, err := e.pods.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	in.Pods = e.withStarting(pods, starting)

	v6 := false
	for _, p := range in.Pods {
		if live(p) && len(podAddrs(p, nft.IPv6)) > 0 {
			v6 = true
		}
	}
	var problems []string
	for _, f := range []nft.Family{nft.IPv4, nft.IPv6} {
		if f == nft.IPv6 && !v6 {
			if e.applied[f] != "" || !e.v6Cleared {
				if err := e.cfg.Backend.Apply(nft.Delete(f, e.cfg.Table)); err != nil {
					return fmt.Errorf("delete %s table %s: %w", f, e.cfg.Table, err)
				}
				e.applied[f], e.v6Cleared = "", true
			}
			continue
		}
		tbl, errs := Build(f, e.cfg.Table, in)
		for _, err := range errs {
			problems = append(problems, err.Error())
		}
		text := tbl.String()
		if e.applied[f] == text {
			continue
		}
		if err := e.cfg.Backend.Apply(nft.Replace(tbl)); err != nil {
			delete(e.applied, f)
			return fmt.Errorf("apply %s table %s: %w", f, e.cfg.Table, err)
		}
		e.applied[f] = text
	}
	if msg := strings.Join(problems, "; "); msg != e.lastErrs {
		e.lastErrs = msg
		if msg != "" {
			e.log.Warn("network policies left out", "problems", msg)
		}
	}

	local := map[types.UID]string{}
	for _, p := range in.Pods {
		if p.Spec.NodeName == e.cfg.NodeName && live(p) {
			local[p.UID] = addrsKey(p)
		}
	}
	e.mu.Lock()
	e.inKernel = local
	if gen > e.done {
		e.done = gen
		close(e.doneCh)
		e.doneCh = make(chan struct{})
	}
	e.mu.Unlock()
	return nil
}

// withStarting gives pods the addresses the kubelet announced, until their
// status reports the same; a pod the informer has not seen yet is added.
func (e *Enforcer) withStarting(pods []*corev1.Pod, starting map[types.UID]*corev1.Pod) []*corev1.Pod {
	if len(starting) == 0 {
		return pods
	}
	out := make([]*corev1.Pod, 0, len(pods)+len(starting))
	seen := map[types.UID]bool{}
	for _, p := range pods {
		s, ok := starting[p.UID]
		if !ok {
			out = append(out, p)
			continue
		}
		seen[p.UID] = true
		if sameAddrs(p, s) {
			e.mu.Lock()
			if cur := e.starting[p.UID]; cur == s {
				delete(e.starting, p.UID)
			}
			e.mu.Unlock()
			out = append(out, p)
			continue
		}
		merged := p.DeepCopy()
		merged.Status.PodIP, merged.Status.PodIPs = s.Status.PodIP, s.Status.PodIPs
		out = append(out, merged)
	}
	for uid, s := range starting {
		if !seen[uid] {
			out = append(out, s)
		}
	}
	return out
}
