// Package ttlafterfinished deletes finished Jobs once their
// ttlSecondsAfterFinished has passed, as upstream's TTL-after-finished
// controller does: the time runs from the Complete or Failed condition's
// transition; the job is read afresh from the API before it goes, and
// deleted in the foreground with its UID as precondition, so its pods go
// first and a namesake created meanwhile is never touched.
package ttlafterfinished

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "ttl-after-finished-controller"

// Config wires the controller.
type Config struct {
	Client  kubernetes.Interface
	Jobs    batchinformers.JobInformer
	Workers int
	// Clock is the controller's time; nil means the real one.
	Clock clock.PassiveClock
	Log   *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Jobs == nil:
		return errors.New("ttl-after-finished controller: a client and a job informer are required")
	case c.Workers < 1:
		return fmt.Errorf("ttl-after-finished controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller deletes expired jobs.
type Controller struct {
	cfg    Config
	jobs   cache.Indexer
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	clock  clock.PassiveClock
	log    *slog.Logger
}

// New wires the controller to the job informer.
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
	inf := cfg.Jobs.Informer()
	c := &Controller{cfg: cfg, jobs: inf.GetIndexer(), queue: worker.NewQueue("ttl_jobs_to_delete"), clock: cfg.Clock, log: log}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.jobChanged,
		UpdateFunc: func(_, obj interface{}) { c.jobChanged(obj) },
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{reg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the job named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) jobChanged(obj interface{}) {
	j, ok := obj.(*batchv1.Job)
	if !ok || j.DeletionTimestamp != nil || !needsCleanup(j) {
		return
	}
	if key, ok := worker.Key(j); ok {
		c.queue.Add(key)
	}
}

// sync deletes the job if its time is up, or comes back when it will be.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.jobs.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	cached, ok := obj.(*batchv1.Job)
	if !ok {
		return nil
	}
	if left, expired, err := c.expiry(cached); err != nil || !expired {
		return wait(left, err)
	}
	// The cache may be old (the TTL changed, the job was recreated): ask.
	ns, name := cached.Namespace, cached.Name
	fresh, err := c.cfg.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read job %s: %w", key, err)
	}
	if left, expired, err := c.expiry(fresh); err != nil || !expired {
		return wait(left, err)
	}
	foreground := metav1.DeletePropagationForeground
	err = c.cfg.Client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &foreground,
		Preconditions: &metav1.Preconditions{UID: &fresh.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete expired job %s: %w", key, err)
	}
	c.log.Debug("deleted expired job", "key", key)
	return nil
}

func wait(left time.Duration, err error) error {
	if err != nil {
		return err
	}
	if left > 0 {
		return worker.RequeueAfter(left)
	}
	return nil
}

// expiry reports whether the job is due for deletion, and otherwise how long
// it has left (0 when it is not to be cleaned up at all).
func (c *Controller) expiry(j *batchv1.Job) (time.Duration, bool, error) {
	if j.DeletionTimestamp != nil || !needsCleanup(j) {
		return 0, false, nil
	}
	left, err := timeLeft(j, c.clock.Now())
	if err != nil {
		return 0, false, err
	}
	if left <= 0 {
		return 0, true, nil
	}
	return left, false, nil
}

// needsCleanup: the job has a TTL and has finished.
func needsCleanup(j *batchv1.Job) bool {
	if j.Spec.TTLSecondsAfterFinished == nil {
		return false
	}
	_, ok := finishTime(j)
	return ok
}

// finishTime is when the job's Complete or Failed condition turned true.
func finishTime(j *batchv1.Job) (metav1.Time, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime, true
		}
	}
	return metav1.Time{}, false
}

// timeLeft is the time until a finished job with a TTL expires (negative once
// it has).
func timeLeft(j *batchv1.Job, now time.Time) (time.Duration, error) {
	finished, ok := finishTime(j)
	if !ok {
		return 0, fmt.Errorf("job %s/%s has not finished", j.Namespace, j.Name)
	}
	if finished.IsZero() {
		return 0, fmt.Errorf("unable to find the time when the Job %s/%s finished", j.Namespace, j.Name)
	}
	return finished.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second).Sub(now), nil
}
