// Package job runs Jobs to completion as upstream's Job controller does: it
// creates pods up to parallelism until completions succeed (each with an index
// for Indexed jobs), replaces failed pods after an exponential back-off, fails
// the job on backoffLimit, backoffLimitPerIndex/maxFailedIndexes,
// activeDeadlineSeconds or a podFailurePolicy FailJob rule, completes it on
// completions or a successPolicy, suspends and resumes it, and tracks every
// pod through the batch.kubernetes.io/job-tracking finalizer so that no
// finished pod is counted twice or lost (status.uncountedTerminatedPods). Jobs
// whose spec.managedBy names another controller are left alone.
package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/expectations"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "job-controller"
	// SyncBatchPeriod gathers the pod events of a burst into one sync.
	SyncBatchPeriod = time.Second
	// MaxUncountedPods caps status.uncountedTerminatedPods (about 20 KB).
	MaxUncountedPods = 500
	// MaxPodsPerSync caps the pods created or deleted in one sync.
	MaxPodsPerSync = 500
)

var jobKind = batchv1.SchemeGroupVersion.WithKind("Job")

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	Jobs     batchinformers.JobInformer
	Pods     coreinformers.PodInformer
	Recorder events.EventRecorder
	Workers  int
	// Clock is the controller's time; nil means the real one.
	Clock clock.Clock
	// BatchPeriod delays syncs caused by pod events; 0 means SyncBatchPeriod.
	BatchPeriod time.Duration
	// PodFailureBackoff and MaxPodFailureBackoff shape the delay before a
	// failed pod is replaced; 0 means upstream's 10s and 10m.
	PodFailureBackoff, MaxPodFailureBackoff time.Duration
	Log                                     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Jobs == nil || c.Pods == nil || c.Recorder == nil:
		return errors.New("job controller: a client, job and pod informers and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("job controller: workers must be at least 1, not %d", c.Workers)
	case c.BatchPeriod < 0 || c.PodFailureBackoff < 0 || c.MaxPodFailureBackoff < 0:
		return errors.New("job controller: periods must not be negative")
	}
	return nil
}

// orphanKey names pods whose tracking finalizer may have to go: one pod, or
// every pod of a namespace matching a finished or deleted job's selector.
type orphanKey struct {
	namespace string
	name      string
	selector  string
}

// Controller runs Jobs.
type Controller struct {
	cfg     Config
	client  kubernetes.Interface
	jobs    cache.Indexer
	pods    cache.Indexer
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	orphans workqueue.TypedRateLimitingInterface[orphanKey]
	exp     *expectations.Expectations
	finExp  *finalizerExpectations
	backoff *backoffStore
	// finished holds the UIDs of jobs this controller marked finished whose
	// update the cache has not shown yet: they must not be synced again.
	finished sync.Map
	control  *podcontrol.Control
	clock    clock.Clock
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
	if cfg.BatchPeriod == 0 {
		cfg.BatchPeriod = SyncBatchPeriod
	}
	if cfg.PodFailureBackoff == 0 {
		cfg.PodFailureBackoff = DefaultPodFailureBackoff
	}
	if cfg.MaxPodFailureBackoff == 0 {
		cfg.MaxPodFailureBackoff = MaxPodFailureBackoff
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf, jobInf := cfg.Pods.Informer(), cfg.Jobs.Informer()
	if err := podcontrol.AddControllerIndex(podInf); err != nil {
		return nil, err
	}
	// Upstream retries a failed job sync after 1s, doubling up to a minute.
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, time.Minute)
	orphanLimiter := workqueue.NewTypedItemExponentialFailureRateLimiter[orphanKey](time.Second, time.Minute)
	c := &Controller{cfg: cfg, client: cfg.Client, jobs: jobInf.GetIndexer(), pods: podInf.GetIndexer(),
		queue:   workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[string]{Name: "job"}),
		orphans: workqueue.NewTypedRateLimitingQueueWithConfig(orphanLimiter, workqueue.TypedRateLimitingQueueConfig[orphanKey]{Name: "job_orphan_pod"}),
		exp:     expectations.New(expectations.DefaultTTL, cfg.Clock.Now), finExp: newFinalizerExpectations(), backoff: newBackoffStore(),
		control: &podcontrol.Control{Client: cfg.Client, Recorder: cfg.Recorder}, clock: cfg.Clock, log: log}
	jobReg, err := jobInf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: c.addJob, UpdateFunc: c.updateJob, DeleteFunc: c.deleteJob})
	if err != nil {
		return nil, err
	}
	podReg, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: func(obj interface{}) { c.deletePod(obj, true) },
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{jobReg.HasSynced, podReg.HasSynced}
	return c, nil
}

// Run works until ctx ends: job syncs and orphan-pod clean-ups, each with
// their own workers.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() {
		errs <- worker.Run(ctx, worker.Config[orphanKey]{Name: Name + "-orphans", Queue: c.orphans, Synced: c.synced,
			Workers: c.cfg.Workers, Sync: c.syncOrphans, Log: c.log})
	}()
	go func() {
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
	}()
	err := <-errs
	cancel()
	return errors.Join(err, <-errs)
}

// Sync syncs the job named by key (namespace/name) once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}, after time.Duration) {
	if key, ok := worker.Key(obj); ok {
		c.queue.AddAfter(key, after)
	}
}

func (c *Controller) addJob(obj interface{}) { c.enqueue(obj, 0) }

func (c *Controller) updateJob(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*batchv1.Job)
	cur, ok2 := newObj.(*batchv1.Job)
	if !ok1 || !ok2 {
		return
	}
	if IsFinished(cur) {
		// Pods may still carry the finalizer of a job that finished: free them.
		c.enqueueSelector(cur)
		return
	}
	if cur.Generation == old.Generation {
		// A status update, typically after pod events: batch it.
		c.enqueue(cur, c.cfg.BatchPeriod)
	} else {
		c.enqueue(cur, 0)
	}
	// A changed activeDeadlineSeconds moves the deadline's timer.
	if ads := cur.Spec.ActiveDeadlineSeconds; cur.Status.StartTime != nil && ads != nil {
		if oads := old.Spec.ActiveDeadlineSeconds; oads == nil || *oads != *ads {
			c.enqueue(cur, time.Duration(*ads)*time.Second-c.clock.Since(cur.Status.StartTime.Time))
		}
	}
}

func (c *Controller) deleteJob(obj interface{}) {
	c.enqueue(obj, 0)
	j, ok := worker.Object[*batchv1.Job](obj)
	if !ok {
		return
	}
	c.finished.Delete(j.UID)
	c.enqueueSelector(j)
	if key, ok := worker.Key(obj); ok {
		c.backoff.forget(key)
	}
}

// enqueueSelector asks for the finalizers of every pod the job selects to be
// checked.
func (c *Controller) enqueueSelector(j *batchv1.Job) {
	sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
	if err != nil {
		return
	}
	c.orphans.Add(orphanKey{namespace: j.Namespace, selector: sel.String()})
}

func (c *Controller) enqueueOrphan(p *corev1.Pod) {
	c.orphans.Add(orphanKey{namespace: p.Namespace, name: p.Name})
}

// resolve returns the job a controller reference points to, if it still is
// that job.
func (c *Controller) resolve(namespace string, ref *metav1.OwnerReference) (*batchv1.Job, bool) {
	if ref.Kind != jobKind.Kind {
		return nil, false
	}
	obj, exists, err := c.jobs.GetByKey(namespace + "/" + ref.Name)
	if err != nil || !exists {
		return nil, false
	}
	j, ok := obj.(*batchv1.Job)
	if !ok || j.UID != ref.UID {
		return nil, false
	}
	return j, true
}

// matchingJobs are the jobs of the pod's namespace whose selector matches it.
func (c *Controller) matchingJobs(p *corev1.Pod) []*batchv1.Job {
	if len(p.Labels) == 0 {
		return nil
	}
	objs, err := c.jobs.ByIndex(cache.NamespaceIndex, p.Namespace)
	if err != nil {
		return nil
	}
	var out []*batchv1.Job
	for _, o := range objs {
		j, ok := o.(*batchv1.Job)
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		out = append(out, j)
	}
	return out
}

func jobKey(j *batchv1.Job) string { return j.Namespace + "/" + j.Name }

func (c *Controller) addPod(obj interface{}) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if p.DeletionTimestamp != nil {
		// Seen first while being deleted (a restart): not a creation.
		c.deletePod(p, false)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		if j, ok := c.resolve(p.Namespace, ref); ok {
			c.exp.CreationObserved(jobKey(j))
			c.enqueue(j, c.cfg.BatchPeriod)
		}
		return
	}
	if hasTrackingFinalizer(p) {
		c.enqueueOrphan(p)
	}
	for _, j := range c.matchingJobs(p) {
		c.enqueue(j, c.cfg.BatchPeriod)
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil {
		// A graceful deletion starts: the job may replace the pod now.
		c.deletePod(cur, false)
		return
	}
	finalizerGone := !hasTrackingFinalizer(cur)
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !sameRef(oldRef, curRef)
	if refChanged && oldRef != nil {
		if j, ok := c.resolve(old.Namespace, oldRef); ok {
			if finalizerGone {
				c.finExp.observed(jobKey(j), cur.UID)
			}
			c.enqueue(j, c.cfg.BatchPeriod)
		}
	}
	if curRef != nil {
		if j, ok := c.resolve(cur.Namespace, curRef); ok {
			if finalizerGone {
				c.finExp.observed(jobKey(j), cur.UID)
			}
			c.enqueue(j, c.cfg.BatchPeriod)
		}
		return
	}
	if hasTrackingFinalizer(cur) {
		c.enqueueOrphan(cur)
	}
	if refChanged || !maps.Equal(old.Labels, cur.Labels) {
		for _, j := range c.matchingJobs(cur) {
			c.enqueue(j, c.cfg.BatchPeriod)
		}
	}
}

// deletePod handles a pod going (final: removed from the store; otherwise its
// deletion began).
func (c *Controller) deletePod(obj interface{}, final bool) {
	p, ok := worker.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil {
		// The garbage collector may have dropped the reference to a gone job.
		if hasTrackingFinalizer(p) {
			c.enqueueOrphan(p)
		}
		return
	}
	j, ok := c.resolve(p.Namespace, ref)
	if !ok || IsFinished(j) {
		// No sync will remove this pod's finalizer.
		if hasTrackingFinalizer(p) {
			c.enqueueOrphan(p)
		}
		return
	}
	key := jobKey(j)
	c.exp.DeletionObserved(key, podcontrol.Key(p))
	if final || !hasTrackingFinalizer(p) {
		c.finExp.observed(key, p.UID)
	}
	c.enqueue(j, c.cfg.BatchPeriod)
}

func sameRef(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Kind == b.Kind && a.Name == b.Name
}

// syncOrphans removes the tracking finalizer from pods no running job counts.
func (c *Controller) syncOrphans(ctx context.Context, key orphanKey) error {
	if key.selector == "" {
		obj, exists, err := c.pods.GetByKey(key.namespace + "/" + key.name)
		if err != nil || !exists {
			return err
		}
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return nil
		}
		return c.releaseOrphan(ctx, p)
	}
	sel, err := labels.Parse(key.selector)
	if err != nil {
		return nil
	}
	objs, err := c.pods.ByIndex(cache.NamespaceIndex, key.namespace)
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && sel.Matches(labels.Set(p.Labels)) {
			errs = append(errs, c.releaseOrphan(ctx, p))
		}
	}
	// One stuck pod must not hold the others back: they were all tried.
	if err := errors.Join(errs...); err != nil {
		c.log.Info("removing tracking finalizers", "namespace", key.namespace, "selector", key.selector, "err", err)
	}
	return nil
}

// releaseOrphan drops the finalizer of a pod unless a job still counts it:
// one this controller runs that has not finished.
func (c *Controller) releaseOrphan(ctx context.Context, p *corev1.Pod) error {
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		if ref.Kind != jobKind.Kind || ref.APIVersion != jobKind.GroupVersion().String() {
			return nil
		}
		if j, ok := c.resolve(p.Namespace, ref); ok {
			if _, elsewhere := managedElsewhere(j); elsewhere || !IsFinished(j) {
				return nil
			}
		}
	}
	return c.removeFinalizer(ctx, p)
}

func (c *Controller) removeFinalizer(ctx context.Context, p *corev1.Pod) error {
	patch := removeFinalizerPatch(p)
	if patch == nil {
		return nil
	}
	_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("remove tracking finalizer of pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}
