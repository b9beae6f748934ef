// Package resourcequota is upstream's ResourceQuota controller: it keeps each
// ResourceQuota's status (hard as the spec says, used as counted from what
// exists in its namespace) current. A quota is recounted when it changes,
// when an object it counts is deleted or changes what it costs, and every
// sync period (upstream's --resource-quota-sync-period), which also catches
// usage the admission plugin charged for writes that then failed.
package resourcequota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
	"github.com/minik8s/minik8s/pkg/quota"
)

// Name is the controller's name, as upstream's.
const Name = "resourcequota-controller"

// DefaultSyncPeriod is upstream's --resource-quota-sync-period.
const DefaultSyncPeriod = 5 * time.Minute

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	Quotas   coreinformers.ResourceQuotaInformer
	Pods     coreinformers.PodInformer
	Services coreinformers.ServiceInformer
	Claims   coreinformers.PersistentVolumeClaimInformer
	// Counted are metadata informers of other resources whose objects
	// quotas count (count/<resource>): their deletions recount at once.
	Counted map[schema.GroupVersionResource]cache.SharedIndexInformer
	// Metadata lists resources that have no informer here; Mapper finds
	// their version. Both may be nil: such counts then stay as charged.
	Metadata metadata.Interface
	Mapper   meta.RESTMapper
	// SyncPeriod is how often every quota is recounted.
	SyncPeriod time.Duration
	Workers    int
	Log        *slog.Logger
	// Now is the clock pods' grace periods are read against.
	Now func() time.Time
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Quotas == nil || c.Pods == nil || c.Services == nil || c.Claims == nil:
		return errors.New("resourcequota: a client and quota, pod, service and claim informers are required")
	case c.Workers < 1:
		return fmt.Errorf("resourcequota: workers must be at least 1, not %d", c.Workers)
	case c.SyncPeriod <= 0:
		return fmt.Errorf("resourcequota: the sync period must be positive, not %s", c.SyncPeriod)
	}
	return nil
}

// Controller keeps ResourceQuota status current.
type Controller struct {
	cfg      Config
	quotas   corelisters.ResourceQuotaLister
	pods     corelisters.PodLister
	services corelisters.ServiceLister
	claims   corelisters.PersistentVolumeClaimLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
}

// New watches quotas and what they count.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Controller{cfg: cfg, quotas: cfg.Quotas.Lister(), pods: cfg.Pods.Lister(), services: cfg.Services.Lister(),
		claims: cfg.Claims.Lister(), queue: worker.NewQueue("resourcequota_primary"),
		synced: []cache.InformerSynced{cfg.Quotas.Informer().HasSynced, cfg.Pods.Informer().HasSynced,
			cfg.Services.Informer().HasSynced, cfg.Claims.Informer().HasSynced}}
	if _, err := cfg.Quotas.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(_, obj interface{}) {
			// Our own status writes come back here: only a spec that the
			// status does not show yet needs a sync.
			if q, ok := obj.(*corev1.ResourceQuota); ok && NeedsSync(q) {
				c.enqueue(obj)
			}
		},
	}); err != nil {
		return nil, err
	}
	for gr, inf := range map[schema.GroupResource]cache.SharedIndexInformer{
		{Resource: "pods"}: cfg.Pods.Informer(), {Resource: "services"}: cfg.Services.Informer(),
		{Resource: "persistentvolumeclaims"}: cfg.Claims.Informer(),
	} {
		if err := c.watchCounted(gr, inf, true); err != nil {
			return nil, err
		}
	}
	for gvr, inf := range cfg.Counted {
		c.synced = append(c.synced, inf.HasSynced)
		if err := c.watchCounted(gvr.GroupResource(), inf, false); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// watchCounted recounts a namespace's quotas when one of its objects goes,
// or (typed objects) changes what it costs.
func (c *Controller) watchCounted(gr schema.GroupResource, inf cache.SharedIndexInformer, typed bool) error {
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(old, obj interface{}) {
			if !typed {
				return
			}
			now := c.cfg.Now()
			before, err1 := quota.Usage(gr, old.(runtime.Object), now)
			after, err2 := quota.Usage(gr, obj.(runtime.Object), now)
			if err1 == nil && err2 == nil && !apiequality.Semantic.DeepEqual(before, after) {
				c.enqueueNamespace(obj)
			}
		},
		DeleteFunc: c.enqueueNamespace,
	})
	return err
}

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

// enqueueNamespace queues every quota of obj's namespace.
func (c *Controller) enqueueNamespace(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	qs, err := c.quotas.ResourceQuotas(m.GetNamespace()).List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range qs {
		c.queue.Add(q.Namespace + "/" + q.Name)
	}
}

// Run works until ctx ends, recounting every quota each sync period.
func (c *Controller) Run(ctx context.Context) error {
	go func() {
		t := time.NewTicker(c.cfg.SyncPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				qs, err := c.quotas.List(labels.Everything())
				if err != nil {
					continue
				}
				for _, q := range qs {
					c.queue.Add(q.Namespace + "/" + q.Name)
				}
			}
		}
	}()
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.cfg.Log})
}

// NeedsSync: the status does not show the spec's hard limits, or lacks a
// usage for one of them.
func NeedsSync(q *corev1.ResourceQuota) bool {
	if !apiequality.Semantic.DeepEqual(q.Spec.Hard, q.Status.Hard) {
		return true
	}
	for n := range q.Spec.Hard {
		if _, ok := q.Status.Used[n]; !ok {
			return true
		}
	}
	return false
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	q, err := c.quotas.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	objects, err := c.objectsOf(ctx, q)
	if err != nil {
		return err
	}
	used, err := Used(q, objects, c.cfg.Now())
	if err != nil {
		return err
	}
	if !NeedsSync(q) && apiequality.Semantic.DeepEqual(used, q.Status.Used) {
		return nil
	}
	out := q.DeepCopy()
	out.Status.Hard = q.Spec.Hard.DeepCopy()
	out.Status.Used = used
	_, err = c.cfg.Client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// objectsOf gathers, per resource a quota counts, the objects of its
// namespace. Resources it cannot list are left out (their usage stays as
// charged).
func (c *Controller) objectsOf(ctx context.Context, q *corev1.ResourceQuota) (map[schema.GroupResource][]runtime.Object, error) {
	out := map[schema.GroupResource][]runtime.Object{}
	for _, gr := range Resources(q.Spec.Hard) {
		objs, ok, err := c.list(ctx, gr, q.Namespace)
		if err != nil {
			return nil, err
		}
		if ok {
			out[gr] = objs
		}
	}
	return out, nil
}

func (c *Controller) list(ctx context.Context, gr schema.GroupResource, ns string) ([]runtime.Object, bool, error) {
	var objs []runtime.Object
	switch gr {
	case schema.GroupResource{Resource: "pods"}:
		l, err := c.pods.Pods(ns).List(labels.Everything())
		for _, o := range l {
			objs = append(objs, o)
		}
		return objs, true, err
	case schema.GroupResource{Resource: "services"}:
		l, err := c.services.Services(ns).List(labels.Everything())
		for _, o := range l {
			objs = append(objs, o)
		}
		return objs, true, err
	case schema.GroupResource{Resource: "persistentvolumeclaims"}:
		l, err := c.claims.PersistentVolumeClaims(ns).List(labels.Everything())
		for _, o := range l {
			objs = append(objs, o)
		}
		return objs, true, err
	}
	for gvr, inf := range c.cfg.Counted {
		if gvr.GroupResource() == gr {
			l, err := inf.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
			for _, o := range l {
				if ro, ok := o.(runtime.Object); ok {
					objs = append(objs, ro)
				}
			}
			return objs, true, err
		}
	}
	if c.cfg.Metadata == nil || c.cfg.Mapper == nil {
		return nil, false, nil
	}
	gvr, err := c.cfg.Mapper.ResourceFor(gr.WithVersion(""))
	if err != nil {
		// Not served (yet): nothing of it exists.
		return nil, true, nil
	}
	l, err := c.cfg.Metadata.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("list %s in %s: %w", gr, ns, err)
	}
	for i := range l.Items {
		objs = append(objs, &l.Items[i])
	}
	return objs, true, nil
}

// Resources are the resources whose objects the hard limits count.
func Resources(hard corev1.ResourceList) []schema.GroupResource {
	seen := map[schema.GroupResource]bool{}
	var out []schema.GroupResource
	add := func(gr schema.GroupResource) {
		if !seen[gr] {
			seen[gr] = true
			out = append(out, gr)
		}
	}
	names := make([]corev1.ResourceName, 0, len(hard))
	for n := range hard {
		names = append(names, n)
	}
	for _, gr := range known {
		if len(quota.Matching(gr, names)) > 0 {
			add(gr)
		}
	}
	for _, n := range names {
		if rest, ok := strings.CutPrefix(string(n), "count/"); ok {
			res, group, _ := strings.Cut(rest, ".")
			add(schema.GroupResource{Group: group, Resource: res})
		}
	}
	return out
}

// known are the resources with quota names beyond count/<resource>.
var known = []schema.GroupResource{{Resource: "pods"}, {Resource: "services"}, {Resource: "persistentvolumeclaims"},
	{Resource: "configmaps"}, {Resource: "secrets"}, {Resource: "replicationcontrollers"}, {Resource: "resourcequotas"}}

// Used counts what objects (per resource, of the quota's namespace) use of
// the quota's hard limits. Every hard limit gets a value, zero when nothing
// uses it; resources missing from objects keep the usage the status has.
func Used(q *corev1.ResourceQuota, objects map[schema.GroupResource][]runtime.Object, now time.Time) (corev1.ResourceList, error) {
	matcher := q.DeepCopy()
	matcher.Status.Hard = q.Spec.Hard
	hard := make([]corev1.ResourceName, 0, len(q.Spec.Hard))
	for n := range q.Spec.Hard {
		hard = append(hard, n)
	}
	used := corev1.ResourceList{}
	for _, n := range hard {
		used[n] = resource.MustParse("0")
	}
	for _, gr := range Resources(q.Spec.Hard) {
		names := quota.Matching(gr, hard)
		objs, listed := objects[gr]
		if !listed {
			for _, n := range names {
				if v, ok := q.Status.Used[n]; ok {
					used[n] = v.DeepCopy()
				}
			}
			continue
		}
		for _, o := range objs {
			ok, err := quota.Matches(matcher, gr, o)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			u, err := quota.Usage(gr, o, now)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				if v, ok := u[n]; ok {
					sum := used[n]
					sum.Add(v)
					used[n] = sum
				}
			}
		}
	}
	return used, nil
}
