// Package cronjob starts Jobs on a schedule as upstream's CronJob controller
// (v2) does: standard five-field and @hourly-style schedules, in the
// CronJob's timeZone; concurrencyPolicy Allow, Forbid or Replace;
// startingDeadlineSeconds; suspend; the finished jobs kept as
// successfulJobsHistoryLimit and failedJobsHistoryLimit say; status.active,
// lastScheduleTime and lastSuccessfulTime. Each start time makes one job,
// named <cronjob>-<minutes since the epoch>, so a restart never starts one
// twice. The controller sleeps until the next start time (RequeueAfter).
package cronjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "cronjob-controller"

// byCronJob indexes jobs by the CronJob controlling them (namespace/name).
const byCronJob = "cronjob"

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	CronJobs batchinformers.CronJobInformer
	Jobs     batchinformers.JobInformer
	Recorder events.EventRecorder
	Workers  int
	// Clock is the controller's time; nil means the real one.
	Clock clock.PassiveClock
	Log   *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.CronJobs == nil || c.Jobs == nil || c.Recorder == nil:
		return errors.New("cronjob controller: a client, cronjob and job informers and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("cronjob controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller runs CronJobs.
type Controller struct {
	cfg      Config
	client   kubernetes.Interface
	cronJobs cache.Indexer
	jobs     cache.Indexer
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
	jobInf, cjInf := cfg.Jobs.Informer(), cfg.CronJobs.Informer()
	if _, ok := jobInf.GetIndexer().GetIndexers()[byCronJob]; !ok {
		if err := jobInf.AddIndexers(cache.Indexers{byCronJob: indexByCronJob}); err != nil {
			return nil, err
		}
	}
	c := &Controller{cfg: cfg, client: cfg.Client, cronJobs: cjInf.GetIndexer(), jobs: jobInf.GetIndexer(),
		queue: worker.NewQueue("cronjob"), clock: cfg.Clock, log: log}
	cjReg, err := cjInf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: c.enqueue, UpdateFunc: c.updateCronJob, DeleteFunc: c.enqueue})
	if err != nil {
		return nil, err
	}
	jobReg, err := jobInf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: c.addJob, UpdateFunc: c.updateJob, DeleteFunc: c.jobChanged})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{cjReg.HasSynced, jobReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync syncs the CronJob named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func indexByCronJob(obj interface{}) ([]string, error) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.Kind == cronJobKind.Kind {
		return []string{j.Namespace + "/" + ref.Name}, nil
	}
	return nil, nil
}

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

// updateCronJob: a new schedule or zone waits for its next start time (a
// sooner one than before comes sooner); anything else is looked at now.
func (c *Controller) updateCronJob(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*batchv1.CronJob)
	cur, ok2 := newObj.(*batchv1.CronJob)
	if !ok1 || !ok2 {
		return
	}
	if old.Spec.Schedule == cur.Spec.Schedule && ptr.Equal(old.Spec.TimeZone, cur.Spec.TimeZone) {
		c.enqueue(cur)
		return
	}
	spec, _ := scheduleSpec(cur)
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		c.cfg.Recorder.Eventf(cur, nil, corev1.EventTypeWarning, "UnParseableCronJobSchedule", "Schedule", "unparseable schedule for cronjob: %s", cur.Spec.Schedule)
		return
	}
	if key, ok := worker.Key(cur); ok {
		c.queue.AddAfter(key, nextScheduleDelay(cur, c.clock.Now(), sched))
	}
}

// owner returns the key of the CronJob controlling j, if it is one we know.
func (c *Controller) owner(j *batchv1.Job) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(j)
	if ref == nil || ref.Kind != cronJobKind.Kind {
		return "", false
	}
	key := j.Namespace + "/" + ref.Name
	obj, exists, err := c.cronJobs.GetByKey(key)
	if err != nil || !exists {
		return "", false
	}
	if cj, ok := obj.(*batchv1.CronJob); !ok || cj.UID != ref.UID {
		return "", false
	}
	return key, true
}

func (c *Controller) addJob(obj interface{}) { c.jobChanged(obj) }

func (c *Controller) updateJob(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*batchv1.Job)
	cur, ok2 := newObj.(*batchv1.Job)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	if !sameController(old, cur) {
		c.jobChanged(old)
	}
	c.jobChanged(cur)
}

func (c *Controller) jobChanged(obj interface{}) {
	j, ok := worker.Object[*batchv1.Job](obj)
	if !ok {
		return
	}
	if key, ok := c.owner(j); ok {
		c.queue.Add(key)
	}
}

func sameController(a, b *batchv1.Job) bool {
	ra, rb := metav1.GetControllerOfNoCopy(a), metav1.GetControllerOfNoCopy(b)
	if ra == nil || rb == nil {
		return ra == rb
	}
	return ra.UID == rb.UID
}
