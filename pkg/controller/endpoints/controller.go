// Package endpoints keeps the v1 Endpoints of every Service with a selector,
// as upstream's endpoints controller does: the addresses of the matching pods
// with an IP, ready or not ready, per resolved port, at most 1,000 of them
// (the endpoints.kubernetes.io/over-capacity annotation says when some were
// dropped). Endpoints of Services without a selector are the user's and are
// left alone; Endpoints whose Service is gone are deleted.
package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/servicepods"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "endpoints-controller"
	// LabelManagedBy marks the Endpoints this controller writes.
	LabelManagedBy = "endpoints.kubernetes.io/managed-by"
	// ManagedBy is that label's value, as upstream's.
	ManagedBy = "endpoint-controller"
	// overCapacity is the value of the over-capacity annotation.
	overCapacity = "truncated"
	// leaderAnnotation marks the Endpoints old leader elections used; they are not a Service's.
	leaderAnnotation = "control-plane.alpha.kubernetes.io/leader"
	maxRetries       = 15
)

// Config wires the controller.
type Config struct {
	Client    kubernetes.Interface
	Services  coreinformers.ServiceInformer
	Pods      coreinformers.PodInformer
	Endpoints coreinformers.EndpointsInformer
	Recorder  events.EventRecorder
	Workers   int
	// BatchPeriod delays syncs after pod changes (upstream's
	// --endpoint-updates-batch-period, 0 by default).
	BatchPeriod time.Duration
	Log         *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Services == nil || c.Pods == nil || c.Endpoints == nil || c.Recorder == nil:
		return errors.New("endpoints controller: a client, service, pod and endpoints informers and a recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("endpoints controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller keeps Services' Endpoints.
type Controller struct {
	cfg       Config
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	triggers  *servicepods.TriggerTimes
	log       *slog.Logger

	// stale holds, per Endpoints, the resourceVersion the controller replaced:
	// while the cache still shows it, a sync would work from old data.
	staleMu sync.Mutex
	stale   map[string]string
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, services: cfg.Services.Lister(), pods: cfg.Pods.Lister(), endpoints: cfg.Endpoints.Lister(),
		queue: worker.NewQueue("endpoint"), triggers: servicepods.NewTriggerTimes(), log: log, stale: map[string]string{}}
	svcReg, err := cfg.Services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur interface{}) { c.enqueue(cur) },
		DeleteFunc: c.enqueue,
	})
	if err != nil {
		return nil, err
	}
	podReg, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if pod, ok := obj.(*corev1.Pod); ok {
				c.enqueueKeys(servicepods.Services(c.services, pod))
			}
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			old, ok1 := oldObj.(*corev1.Pod)
			cur, ok2 := newObj.(*corev1.Pod)
			if ok1 && ok2 {
				c.enqueueKeys(servicepods.ChangedServices(c.services, old, cur))
			}
		},
		DeleteFunc: func(obj interface{}) {
			if pod, ok := worker.Object[*corev1.Pod](obj); ok {
				c.enqueueKeys(servicepods.Services(c.services, pod))
			}
		},
	})
	if err != nil {
		return nil, err
	}
	// A deleted Endpoints of a Service that still exists is written again.
	epReg, err := cfg.Endpoints.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.enqueue})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{svcReg.HasSynced, podReg.HasSynced, epReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	go c.queueLeftovers(ctx)
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers,
		Sync: c.sync, MaxRetries: maxRetries, Log: c.log})
}

// Sync syncs one Service (namespace/name) once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

// queueLeftovers looks once at every Endpoints after start, so those whose
// Service went away while the controller was not running are removed.
func (c *Controller) queueLeftovers(ctx context.Context) {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	list, err := c.endpoints.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ep := range list {
		if _, ok := ep.Annotations[leaderAnnotation]; ok {
			continue
		}
		c.queue.Add(ep.Namespace + "/" + ep.Name)
	}
}

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueKeys(keys []string) {
	for _, k := range keys {
		if c.cfg.BatchPeriod > 0 {
			c.queue.AddAfter(k, c.cfg.BatchPeriod)
		} else {
			c.queue.Add(k)
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		err := c.cfg.Client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete the Endpoints of removed Service %s: %w", key, err)
		}
		c.triggers.Forget(ns, name)
		c.forgetStale(key)
		return nil
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		return nil // hand-written Endpoints, or none
	}
	pods, err := c.pods.Pods(ns).List(labels.Set(svc.Spec.Selector).AsSelectorPreValidated())
	if err != nil {
		return err
	}
	trigger := c.triggers.Compute(svc, pods)
	subsets := desiredSubsets(svc, pods)

	current, err := c.endpoints.Endpoints(ns).Get(name)
	switch {
	case apierrors.IsNotFound(err):
		current = &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	case err != nil:
		return err
	case c.isStale(key, current.ResourceVersion):
		return worker.Quiet(fmt.Errorf("the Endpoints cache of %s still shows version %s the controller replaced", key, current.ResourceVersion))
	}
	want, change := desiredEndpoints(current, svc, subsets, trigger)
	if !change {
		return nil
	}
	if current.ResourceVersion == "" {
		_, err = c.cfg.Client.CoreV1().Endpoints(ns).Create(ctx, want, metav1.CreateOptions{})
		if err != nil {
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				return nil
			}
			c.cfg.Recorder.Eventf(want, nil, corev1.EventTypeWarning, "FailedToCreateEndpoint", "Create",
				"Failed to create endpoint for service %s/%s: %v", ns, name, err)
			return err
		}
		return nil
	}
	updated, err := c.cfg.Client.CoreV1().Endpoints(ns).Update(ctx, want, metav1.UpdateOptions{})
	if err != nil {
		c.cfg.Recorder.Eventf(want, nil, corev1.EventTypeWarning, "FailedToUpdateEndpoint", "Update",
			"Failed to update endpoint %s/%s: %v", ns, name, err)
		return err
	}
	if updated.ResourceVersion != current.ResourceVersion {
		c.markStale(key, current.ResourceVersion)
	}
	return nil
}

// desiredEndpoints is the Endpoints object to write over current (an empty one
// with no resourceVersion when there is none); change is false when current is
// already right.
func desiredEndpoints(current *corev1.Endpoints, svc *corev1.Service, subsets []corev1.EndpointSubset, trigger time.Time) (*corev1.Endpoints, bool) {
	truncated := truncate(subsets)
	if current.ResourceVersion != "" && subsetsEqual(current.Subsets, subsets) &&
		labelsCorrect(current.Labels, svc) && capacityAnnotationCorrect(current.Annotations, truncated) {
		return current, false
	}
	want := current.DeepCopy()
	want.Subsets = subsets
	want.Labels = maps.Clone(svc.Labels)
	if want.Labels == nil {
		want.Labels = map[string]string{}
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		want.Labels[corev1.IsHeadlessService] = ""
	} else {
		delete(want.Labels, corev1.IsHeadlessService)
	}
	want.Labels[LabelManagedBy] = ManagedBy
	if want.Annotations == nil {
		want.Annotations = map[string]string{}
	}
	if trigger.IsZero() {
		delete(want.Annotations, corev1.EndpointsLastChangeTriggerTime)
	} else {
		want.Annotations[corev1.EndpointsLastChangeTriggerTime] = trigger.UTC().Format(time.RFC3339Nano)
	}
	if truncated {
		want.Annotations[corev1.EndpointsOverCapacity] = overCapacity
	} else {
		delete(want.Annotations, corev1.EndpointsOverCapacity)
	}
	return want, true
}

// subsetsEqual compares subsets ignoring the targets' resourceVersions.
func subsetsEqual(a, b []corev1.EndpointSubset) bool {
	strip := func(in []corev1.EndpointSubset) []corev1.EndpointSubset {
		out := make([]corev1.EndpointSubset, len(in))
		for i := range in {
			in[i].DeepCopyInto(&out[i])
			for _, list := range [][]corev1.EndpointAddress{out[i].Addresses, out[i].NotReadyAddresses} {
				for j := range list {
					if list[j].TargetRef != nil {
						list[j].TargetRef.ResourceVersion = ""
					}
				}
			}
		}
		return out
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}

// labelsCorrect: the Endpoints carry exactly the Service's labels plus the
// managed-by (and maybe headless) label.
func labelsCorrect(have map[string]string, svc *corev1.Service) bool {
	if have[LabelManagedBy] != ManagedBy {
		return false
	}
	skipped := 0
	for k, v := range have {
		if k == corev1.IsHeadlessService || k == LabelManagedBy {
			skipped++
			continue
		}
		if sv, ok := svc.Labels[k]; !ok || sv != v {
			return false
		}
	}
	return len(svc.Labels) == len(have)-skipped
}

func capacityAnnotationCorrect(annotations map[string]string, truncated bool) bool {
	_, has := annotations[corev1.EndpointsOverCapacity]
	return has == truncated && (!truncated || annotations[corev1.EndpointsOverCapacity] == overCapacity)
}

func (c *Controller) markStale(key, rv string) {
	c.staleMu.Lock()
	c.stale[key] = rv
	c.staleMu.Unlock()
}

func (c *Controller) isStale(key, rv string) bool {
	c.staleMu.Lock()
	defer c.staleMu.Unlock()
	old, ok := c.stale[key]
	return ok && old == rv
}

func (c *Controller) forgetStale(key string) {
	c.staleMu.Lock()
	delete(c.stale, key)
	c.staleMu.Unlock()
}
