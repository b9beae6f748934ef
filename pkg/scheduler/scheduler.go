package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"

	"github.com/minik8s/minik8s/pkg/leader"
	schedcache "github.com/minik8s/minik8s/pkg/scheduler/cache"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
	"github.com/minik8s/minik8s/pkg/scheduler/queue"
)

// Scheduler places pods on nodes.
type Scheduler struct {
	cfg         Config
	client      kubernetes.Interface
	informers   informers.SharedInformerFactory
	podLister   corelisters.PodLister
	cache       *schedcache.Cache
	snapshot    *schedcache.Snapshot
	queue       *queue.Queue
	profiles    map[string]*profile.Profile
	broadcaster events.EventBroadcaster
	metrics     *metrics
	parallel    fw.Parallelizer
	log         *slog.Logger
	// nextStartNodeIndex rotates where the search for feasible nodes starts, so
	// that with a partial search every node gets its turn.
	nextStartNodeIndex int
	// feasibleBuf and statusBuf are the filter pass's scratch space.
	feasibleBuf []*fw.NodeInfo
	statusBuf   []*fw.Status
	// bindings counts binding goroutines in flight.
	bindings sync.WaitGroup
}

// New builds a scheduler and its profiles; nothing runs until Run.
func New(ctx context.Context, cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	rc := rest.CopyConfig(cfg.Rest)
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	if rc.UserAgent == "" {
		rc.UserAgent = "minik8s-scheduler"
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("scheduler client: %w", err)
	}
	s := &Scheduler{cfg: cfg, client: client, cache: schedcache.New(), snapshot: schedcache.NewEmptySnapshot(),
		profiles: map[string]*profile.Profile{}, log: cfg.Logger, parallel: fw.NewParallelizer(cfg.Parallelism)}
	// Managed fields are of no use to a scheduler and are most of a small object.
	s.informers = informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(trimObject))
	// The pod informer is the filtered one, registered before any plugin asks the
	// factory for pods (preemption reads them) and would get an unfiltered one.
	s.informers.InformerFor(&corev1.Pod{}, newPodInformer)
	s.broadcaster = events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	s.metrics = newMetrics(cfg.Metrics)

	qprofiles := map[string]*queue.Profile{}
	var less func(a, b *fw.QueuedPodInfo) bool
	for _, pc := range cfg.Profiles {
		p, err := profile.New(ctx, pc, cfg.Registry, profile.Deps{
			Client: client, Informers: s.informers, Recorder: s.broadcaster.NewRecorder(scheme.Scheme, pc.SchedulerName),
			Snapshot: s.snapshot, Nominator: lazyNominator{s},
			Parallelizer: s.parallel,
		})
		if err != nil {
			return nil, fmt.Errorf("initializing profiles: creating profile for scheduler name %s: %w", pc.SchedulerName, err)
		}
		s.profiles[pc.SchedulerName] = p
		qprofiles[pc.SchedulerName] = &queue.Profile{PreEnqueue: p.PreEnqueuePlugins(), Events: p.Events()}
		if less == nil {
			less = p.QueueSort().Less
		}
	}
	s.queue = queue.New(queue.Config{InitialBackoff: cfg.PodInitialBackoff, MaxBackoff: cfg.PodMaxBackoff, Less: less,
		Profiles: qprofiles, OnChange: s.metrics.setPending})
	if err := s.addEventHandlers(); err != nil {
		return nil, err
	}
	s.podLister = s.informers.Core().V1().Pods().Lister()
	return s, nil
}

// lazyNominator reaches the queue's nominator, which exists only after the
// profiles (the queue needs their QueueSort).
type lazyNominator struct{ s *Scheduler }

func (l lazyNominator) NominatedPodsForNode(node string) []*fw.PodInfo {
	return l.s.queue.Nominator().NominatedPodsForNode(node)
}
func (l lazyNominator) Any() bool { return l.s.queue.Nominator().Any() }

// Profiles are the scheduler names served.
func (s *Scheduler) Profiles() []string {
	var out []string
	for _, p := range s.cfg.Profiles {
		out = append(out, p.SchedulerName)
	}
	return out
}

// Run schedules until ctx ends: as leader if configured, else at once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.broadcaster.StartRecordingToSink(ctx.Done())
	defer s.broadcaster.Shutdown()
	if !s.cfg.LeaderElect {
		return s.run(ctx)
	}
	err := leader.Run(ctx, leader.Config{Client: s.client.CoordinationV1(), Namespace: s.cfg.LeaseNamespace, Name: s.cfg.LeaseName,
		Identity: s.cfg.Identity, Recorder: s.broadcaster.NewRecorder(scheme.Scheme, s.cfg.LeaseName), Log: s.log}, s.run)
	if errors.Is(err, leader.ErrLost) {
		// Leadership lost while the process goes on: stop rather than risk
		// two schedulers binding the same pod (the queue cannot be restarted).
		return fmt.Errorf("scheduler: %w", err)
	}
	return err
}

func (s *Scheduler) run(ctx context.Context) error {
	s.informers.Start(ctx.Done())
	defer s.informers.Shutdown()
	for t, ok := range s.informers.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("scheduler: %v cache did not sync", t)
		}
	}
	s.publishConfig(ctx)
	s.log.Info("scheduler started", "profiles", s.Profiles())
	go s.queue.Run(ctx)
	for ctx.Err() == nil {
		s.scheduleOne(ctx)
	}
	s.queue.Close()
	s.bindings.Wait()
	return nil
}

var _ cache.TransformFunc = trimObject
