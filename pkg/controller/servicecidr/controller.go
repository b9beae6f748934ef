// Package servicecidr looks after ServiceCIDRs, as upstream's
// service-cidr-controller does: each carries the
// networking.k8s.io/service-cidr-finalizer and a Ready condition; a deleted
// one keeps its finalizer, with Ready=False (Terminating), while a Service
// address inside it is covered by no other ServiceCIDR, so no Service is left
// with an address outside every range. Once free, the finalizer goes after a
// short grace period that lets the API server's allocators see the deletion.
// minik8s allocates ClusterIPs without IPAddress objects, so the Services'
// clusterIPs are checked as well as any IPAddress objects.
package servicecidr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	networkinginformers "k8s.io/client-go/informers/networking/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "service-cidr-controller"

// Finalizer is upstream's ServiceCIDR protection finalizer.
const Finalizer = "networking.k8s.io/service-cidr-finalizer"

// deletionGrace lets the API server's allocators notice a deleted range
// before it is gone for good, as upstream waits.
const deletionGrace = 10 * time.Second

// Config wires the controller.
type Config struct {
	Client       kubernetes.Interface
	ServiceCIDRs networkinginformers.ServiceCIDRInformer
	IPAddresses  networkinginformers.IPAddressInformer
	Services     coreinformers.ServiceInformer
	Workers      int
	Clock        clock.PassiveClock
	Log          *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.ServiceCIDRs == nil || c.IPAddresses == nil || c.Services == nil:
		return errors.New("service cidr controller: a client and servicecidr, ipaddress and service informers are required")
	case c.Workers < 1:
		return fmt.Errorf("service cidr controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller keeps finalizers and conditions.
type Controller struct {
	cfg      Config
	cidrs    networkinglisters.ServiceCIDRLister
	ips      networkinglisters.IPAddressLister
	services corelisters.ServiceLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	clock    clock.PassiveClock
	log      *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, cidrs: cfg.ServiceCIDRs.Lister(), ips: cfg.IPAddresses.Lister(), services: cfg.Services.Lister(),
		queue: worker.NewQueue("service-cidr"), clock: cfg.Clock, log: log}
	cidrReg, err := cfg.ServiceCIDRs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		// Ranges this one overlapped may now be the last home of an address.
		DeleteFunc: func(interface{}) { c.enqueueDeleting() },
	})
	if err != nil {
		return nil, err
	}
	// An address going away may free a range being deleted.
	ipReg, err := cfg.IPAddresses.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(interface{}) { c.enqueueDeleting() }})
	if err != nil {
		return nil, err
	}
	svcReg, err := cfg.Services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(interface{}, interface{}) { c.enqueueDeleting() },
		DeleteFunc: func(interface{}) { c.enqueueDeleting() },
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{cidrReg.HasSynced, ipReg.HasSynced, svcReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the ServiceCIDR named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueDeleting() {
	cidrs, err := c.cidrs.List(labels.Everything())
	if err != nil {
		return
	}
	for _, sc := range cidrs {
		if sc.DeletionTimestamp != nil {
			c.queue.Add(sc.Name)
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	sc, err := c.cidrs.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if sc.DeletionTimestamp == nil {
		if !slices.Contains(sc.Finalizers, Finalizer) {
			updated := sc.DeepCopy()
			updated.Finalizers = append(updated.Finalizers, Finalizer)
			if sc, err = c.cfg.Client.NetworkingV1().ServiceCIDRs().Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("add finalizer to servicecidr %s: %w", key, err)
			}
		}
		return c.setReady(ctx, sc, metav1.Condition{Type: networkingv1.ServiceCIDRConditionReady, Status: metav1.ConditionTrue,
			Message: "Kubernetes Service CIDR is ready"})
	}
	if !slices.Contains(sc.Finalizers, Finalizer) {
		return nil
	}
	others, err := c.cidrs.List(labels.Everything())
	if err != nil {
		return err
	}
	addresses, err := c.addresses()
	if err != nil {
		return err
	}
	if Orphans(sc, others, addresses) {
		return c.setReady(ctx, sc, metav1.Condition{Type: networkingv1.ServiceCIDRConditionReady, Status: metav1.ConditionFalse,
			Reason:  networkingv1.ServiceCIDRReasonTerminating,
			Message: "There are still IPAddresses referencing the ServiceCIDR, please remove them or create a new ServiceCIDR"})
	}
	if left := deletionGrace - c.clock.Since(sc.DeletionTimestamp.Time); left > 0 {
		return worker.RequeueAfter(left)
	}
	updated := sc.DeepCopy()
	updated.Finalizers = slices.DeleteFunc(updated.Finalizers, func(f string) bool { return f == Finalizer })
	_, err = c.cfg.Client.NetworkingV1().ServiceCIDRs().Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer from servicecidr %s: %w", key, err)
	}
	return nil
}

// addresses are the Service addresses in use: IPAddress objects and
// Services' clusterIPs.
func (c *Controller) addresses() ([]netip.Addr, error) {
	var out []netip.Addr
	ips, err := c.ips.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip.Name); err == nil {
			out = append(out, a)
		}
	}
	svcs, err := c.services.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, s := range svcs {
		for _, ip := range s.Spec.ClusterIPs {
			if ip == "" || ip == corev1.ClusterIPNone {
				continue
			}
			if a, err := netip.ParseAddr(ip); err == nil {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// Orphans says whether deleting sc would leave an address in use outside
// every ServiceCIDR. A range that others cover wholly orphans nothing.
func Orphans(sc *networkingv1.ServiceCIDR, all []*networkingv1.ServiceCIDR, addresses []netip.Addr) bool {
	var mine []netip.Prefix
	covered := true
	for _, s := range sc.Spec.CIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
		mine = append(mine, p.Masked())
		if !coveredByOther(sc.Name, all, func(o netip.Prefix) bool { return o.Bits() <= p.Bits() && o.Contains(p.Addr()) }) {
			covered = false
		}
	}
	if covered {
		return false
	}
	for _, a := range addresses {
		in := slices.ContainsFunc(mine, func(p netip.Prefix) bool { return p.Contains(a) })
		if in && !coveredByOther(sc.Name, all, func(o netip.Prefix) bool { return o.Contains(a) }) {
			return true
		}
	}
	return false
}

func coveredByOther(name string, all []*networkingv1.ServiceCIDR, contains func(netip.Prefix) bool) bool {
	for _, o := range all {
		if o.Name == name {
			continue
		}
		for _, s := range o.Spec.CIDRs {
			if p, err := netip.ParsePrefix(s); err == nil && contains(p.Masked()) {
				return true
			}
		}
	}
	return false
}

// setReady writes the Ready condition unless it already says the same.
func (c *Controller) setReady(ctx context.Context, sc *networkingv1.ServiceCIDR, cond metav1.Condition) error {
	if cur := meta.FindStatusCondition(sc.Status.Conditions, cond.Type); cur != nil && cur.Status == cond.Status && cur.Reason == cond.Reason && cur.Message == cond.Message {
		return nil
	}
	updated := sc.DeepCopy()
	cond.LastTransitionTime = metav1.NewTime(c.clock.Now())
	meta.SetStatusCondition(&updated.Status.Conditions, cond)
	_, err := c.cfg.Client.NetworkingV1().ServiceCIDRs().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("set the Ready condition of servicecidr %s: %w", sc.Name, err)
	}
	return nil
}
