// Package disruption keeps PodDisruptionBudgets' status current, as upstream's
// disruption controller does: currentHealthy (Ready pods not being deleted),
// desiredHealthy and expectedPods (from minAvailable or maxUnavailable, with
// percentages taken of the scale of the pods' controllers: Deployments,
// ReplicaSets, ReplicationControllers, StatefulSets, or anything with a scale
// subresource), disruptionsAllowed, the DisruptionAllowed condition,
// observedGeneration, and disruptedPods (approvals of the eviction API, kept
// until the pod is deleted or two minutes pass). A pod whose DisruptionTarget
// condition went stale (no deletion followed) gets it set back to False.
package disruption

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	policyinformers "k8s.io/client-go/informers/policy/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "disruption-controller"

// stalePodDisruptionTimeout is how long a pod may carry a DisruptionTarget
// condition without being deleted before the condition is cleared.
const stalePodDisruptionTimeout = 2 * time.Minute

// Config wires the controller.
type Config struct {
	Client                 kubernetes.Interface
	Pods                   coreinformers.PodInformer
	PodDisruptionBudgets   policyinformers.PodDisruptionBudgetInformer
	ReplicationControllers coreinformers.ReplicationControllerInformer
	ReplicaSets            appsinformers.ReplicaSetInformer
	Deployments            appsinformers.DeploymentInformer
	StatefulSets           appsinformers.StatefulSetInformer
	// Scales and Mapper find the scale of other controllers (custom
	// resources); without them such pods make the budget's sync fail.
	Scales    scale.ScalesGetter
	Mapper    meta.RESTMapper
	Discovery discovery.DiscoveryInterface
	Recorder  events.EventRecorder
	Workers   int
	// Clock is injectable for tests; nil is the real clock.
	Clock clock.WithTicker
	Log   *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Pods == nil || c.PodDisruptionBudgets == nil || c.ReplicationControllers == nil ||
		c.ReplicaSets == nil || c.Deployments == nil || c.StatefulSets == nil || c.Recorder == nil:
		return errors.New("disruption controller: a client, the pod, budget and workload informers and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("disruption controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller keeps PodDisruptionBudgets' status.
type Controller struct {
	cfg     Config
	clock   clock.WithTicker
	pdbs    policylisters.PodDisruptionBudgetLister
	pods    corelisters.PodLister
	rcs     corelisters.ReplicationControllerLister
	rss     appslisters.ReplicaSetLister
	deploys appslisters.DeploymentLister
	sets    appslisters.StatefulSetLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	// stale holds pods whose DisruptionTarget condition may go stale.
	stale workqueue.TypedRateLimitingInterface[string]
	log   *slog.Logger
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
	c := &Controller{cfg: cfg, clock: cfg.Clock, pdbs: cfg.PodDisruptionBudgets.Lister(), pods: cfg.Pods.Lister(),
		rcs: cfg.ReplicationControllers.Lister(), rss: cfg.ReplicaSets.Lister(), deploys: cfg.Deployments.Lister(), sets: cfg.StatefulSets.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "disruption", Clock: cfg.Clock}),
		stale: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "disruption_recheck", Clock: cfg.Clock}),
		log: log}
	enqueue := func(obj interface{}) {
		if key, ok := worker.Key(obj); ok {
			c.queue.Add(key)
		}
	}
	pdbReg, err := cfg.PodDisruptionBudgets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, obj interface{}) { enqueue(obj) }, DeleteFunc: enqueue,
	})
	if err != nil {
		return nil, err
	}
	podReg, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, obj interface{}) { c.podChanged(obj) },
		DeleteFunc: func(obj interface{}) {
			if p, ok := worker.Object[*corev1.Pod](obj); ok {
				c.enqueueBudgetOf(p)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{pdbReg.HasSynced, podReg.HasSynced, cfg.ReplicationControllers.Informer().HasSynced,
		cfg.ReplicaSets.Informer().HasSynced, cfg.Deployments.Informer().HasSynced, cfg.StatefulSets.Informer().HasSynced}
	return c, nil
}

func (c *Controller) podChanged(obj interface{}) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	c.enqueueBudgetOf(p)
	if has, after := c.staleDisruption(p); has {
		if key, ok := worker.Key(p); ok {
			c.stale.AddAfter(key, after)
		}
	}
}

// enqueueBudgetOf queues the budget covering a pod.
func (c *Controller) enqueueBudgetOf(p *corev1.Pod) {
	if pdb := c.budgetOf(p); pdb != nil {
		c.queue.Add(pdb.Namespace + "/" + pdb.Name)
	}
}

// budgetOf returns the budget covering a pod, the first by name when several
// do (with a warning event on the pod, as upstream).
func (c *Controller) budgetOf(p *corev1.Pod) *policyv1.PodDisruptionBudget {
	matching, err := c.pdbs.GetPodPodDisruptionBudgets(p)
	if err != nil || len(matching) == 0 {
		return nil
	}
	sort.Slice(matching, func(i, j int) bool { return matching[i].Name < matching[j].Name })
	if len(matching) > 1 {
		c.cfg.Recorder.Eventf(p, nil, corev1.EventTypeWarning, "MultiplePodDisruptionBudgets", "SelectBudget",
			"Pod %q/%q matches multiple PodDisruptionBudgets.  Chose %q arbitrarily.", p.Namespace, p.Name, matching[0].Name)
	}
	return matching[0]
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
	}()
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name + "-stale-pods", Queue: c.stale, Synced: c.synced, Workers: 1, Sync: c.syncStalePod, Log: c.log})
	}()
	err := <-errs
	cancel()
	wg.Wait()
	return err
}

// Sync syncs one budget, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pdb, err := c.pdbs.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	recheck, err := c.trySync(ctx, pdb)
	if apierrors.IsConflict(err) {
		return err
	}
	if err != nil {
		c.log.Info("budget sync failed, allowing no disruption", "pdb", key, "err", err)
		return c.failSafe(ctx, pdb, err)
	}
	if recheck > 0 {
		return worker.RequeueAfter(recheck)
	}
	return nil
}

// trySync computes and writes a budget's status; recheck is when to look
// again for an approved eviction that did not happen.
func (c *Controller) trySync(ctx context.Context, pdb *policyv1.PodDisruptionBudget) (time.Duration, error) {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		c.cfg.Recorder.Eventf(pdb, nil, corev1.EventTypeWarning, "NoPods", "ListPods", "Failed to get pods: %v", err)
		return 0, err
	}
	pods, err := c.pods.Pods(pdb.Namespace).List(sel)
	if err != nil {
		c.cfg.Recorder.Eventf(pdb, nil, corev1.EventTypeWarning, "NoPods", "ListPods", "Failed to get pods: %v", err)
		return 0, err
	}
	if len(pods) == 0 {
		c.cfg.Recorder.Eventf(pdb, nil, corev1.EventTypeNormal, "NoPods", "ListPods", "No matching pods found")
	}
	expected, desired, unmanaged, err := expectedPods(pdb, pods, c.findOwner(ctx))
	if err != nil {
		c.cfg.Recorder.Eventf(pdb, nil, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed", "ComputeStatus",
			"Failed to calculate the number of expected pods: %v", err)
		return 0, err
	}
	if len(unmanaged) > 0 {
		c.cfg.Recorder.Eventf(pdb, nil, corev1.EventTypeWarning, "UnmanagedPods", "ComputeStatus",
			"Pods selected by this PodDisruptionBudget (selector: %v) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
			pdb.Spec.Selector)
	}
	now := c.clock.Now()
	disrupted, expired, recheck := pruneDisrupted(pods, pdb.Status.DisruptedPods, now)
	for _, p := range expired {
		c.cfg.Recorder.Eventf(p, nil, corev1.EventTypeWarning, "NotDeleted", "ComputeStatus",
			"Pod was expected by PDB %s/%s to be deleted but it wasn't", pdb.Namespace, pdb.Name)
	}
	updated := withStatus(pdb, countHealthy(pods, disrupted, now), desired, expected, disrupted)
	if updated != nil {
		if _, err := c.cfg.Client.PolicyV1().PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return 0, err
		}
	}
	if recheck == nil {
		return 0, nil
	}
	return recheck.Sub(now), nil
}

// failSafe sets disruptionsAllowed to 0 with a SyncFailed condition, so the
// eviction API refuses while the budget cannot be computed.
func (c *Controller) failSafe(ctx context.Context, pdb *policyv1.PodDisruptionBudget, cause error) error {
	out := pdb.DeepCopy()
	out.Status.DisruptionsAllowed = 0
	if out.Status.Conditions == nil {
		out.Status.Conditions = []metav1.Condition{}
	}
	meta.SetStatusCondition(&out.Status.Conditions, metav1.Condition{
		Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse, Reason: policyv1.SyncFailedReason,
		Message: cause.Error(), ObservedGeneration: out.Status.ObservedGeneration,
	})
	_, err := c.cfg.Client.PolicyV1().PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	return err
}
