// Package podautoscaler is the horizontal pod autoscaler, as upstream's
// horizontal-pod-autoscaler-controller: every sync period each
// HorizontalPodAutoscaler (autoscaling/v2; v1 objects are the same objects
// converted) reads its target's scale subresource, asks the metrics.k8s.io
// API for the pods' CPU and memory (Resource and ContainerResource metrics,
// Utilization or AverageValue targets), computes the replica count each
// metric wants with a 10% tolerance, takes the largest, stabilizes and limits
// it (the default 5-minute scale-down window, or the spec's behavior:
// windows and Pods/Percent policies per period with selectPolicy), writes
// the scale, and reports status (currentReplicas, desiredReplicas,
// currentMetrics, lastScaleTime), the AbleToScale, ScalingActive and
// ScalingLimited conditions and upstream's events (SuccessfulRescale,
// FailedGetScale, FailedGetResourceMetric, ...).
package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	autoscalinginformers "k8s.io/client-go/informers/autoscaling/v2"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "horizontal-pod-autoscaler-controller"

// Upstream's defaults (kube-controller-manager v1.34).
const (
	DefaultSyncPeriod              = 15 * time.Second
	DefaultTolerance               = 0.1
	DefaultDownscaleStabilization  = 5 * time.Minute
	DefaultCPUInitializationPeriod = 5 * time.Minute
	DefaultInitialReadinessDelay   = 30 * time.Second
)

// Config wires the controller.
type Config struct {
	Client      kubernetes.Interface
	Autoscalers autoscalinginformers.HorizontalPodAutoscalerInformer
	Pods        coreinformers.PodInformer
	// Scales reads and writes targets' scale subresource; Mapper finds the
	// resource of a target's kind.
	Scales scale.ScalesGetter
	Mapper meta.RESTMapper
	// Metrics gives pods' resource usage (the metrics.k8s.io API).
	Metrics  MetricsSource
	Recorder events.EventRecorder
	// SyncPeriod is how often each autoscaler is reconciled
	// (--horizontal-pod-autoscaler-sync-period).
	SyncPeriod time.Duration
	// Tolerance is how far from the target usage may be before replicas change.
	Tolerance float64
	// DownscaleStabilization is the scale-down window of autoscalers without
	// a behavior (or without a scale-down window in it).
	DownscaleStabilization time.Duration
	// CPUInitializationPeriod and InitialReadinessDelay say when starting
	// pods' CPU samples count.
	CPUInitializationPeriod, InitialReadinessDelay time.Duration
	Workers                                        int
	// Clock is injectable for tests; nil is the real clock.
	Clock clock.WithTicker
	Log   *slog.Logger
}

// Defaults fills unset tunables with upstream's defaults.
func (c *Config) Defaults() {
	if c.SyncPeriod == 0 {
		c.SyncPeriod = DefaultSyncPeriod
	}
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.DownscaleStabilization == 0 {
		c.DownscaleStabilization = DefaultDownscaleStabilization
	}
	if c.CPUInitializationPeriod == 0 {
		c.CPUInitializationPeriod = DefaultCPUInitializationPeriod
	}
	if c.InitialReadinessDelay == 0 {
		c.InitialReadinessDelay = DefaultInitialReadinessDelay
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Autoscalers == nil || c.Pods == nil || c.Scales == nil || c.Mapper == nil || c.Metrics == nil || c.Recorder == nil:
		return errors.New("horizontal pod autoscaler: a client, autoscaler and pod informers, scale and metrics clients, a REST mapper and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("horizontal pod autoscaler: workers must be at least 1, not %d", c.Workers)
	case c.SyncPeriod < 0 || c.DownscaleStabilization < 0 || c.CPUInitializationPeriod < 0 || c.InitialReadinessDelay < 0:
		return errors.New("horizontal pod autoscaler: periods must not be negative")
	case c.Tolerance < 0:
		return fmt.Errorf("horizontal pod autoscaler: the tolerance must not be negative, not %v", c.Tolerance)
	}
	return nil
}

// Controller reconciles HorizontalPodAutoscalers.
type Controller struct {
	cfg    Config
	clock  clock.WithTicker
	hpas   autoscalinglisters.HorizontalPodAutoscalerLister
	pods   corelisters.PodLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	log    *slog.Logger

	mu sync.Mutex
	// histories holds each autoscaler's recommendations and scale changes.
	histories map[string]*history
	// selectors holds each autoscaler's last target selector, to find pods
	// that two autoscalers would both scale.
	selectors map[string]labels.Selector
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, clock: cfg.Clock, hpas: cfg.Autoscalers.Lister(), pods: cfg.Pods.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "horizontalpodautoscaler", Clock: cfg.Clock}),
		log: log, histories: map[string]*history{}, selectors: map[string]labels.Selector{}}
	reg, err := cfg.Autoscalers.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: c.forget,
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{reg.HasSynced, cfg.Pods.Informer().HasSynced}
	return c, nil
}

// enqueue schedules an autoscaler's next look one sync period from now (an
// earlier one already scheduled stands), as upstream paces them.
func (c *Controller) enqueue(obj interface{}) {
	key, ok := worker.Key(obj)
	if !ok {
		return
	}
	c.mu.Lock()
	if _, known := c.selectors[key]; !known {
		c.selectors[key] = labels.Nothing()
	}
	c.mu.Unlock()
	c.queue.AddAfter(key, c.cfg.SyncPeriod)
}

func (c *Controller) forget(obj interface{}) {
	key, ok := worker.Key(obj)
	if !ok {
		return
	}
	c.mu.Lock()
	delete(c.selectors, key)
	delete(c.histories, key)
	c.mu.Unlock()
	c.queue.Forget(key)
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync reconciles one autoscaler, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) historyOf(key string) *history {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.histories[key]
	if h == nil {
		h = &history{}
		c.histories[key] = h
	}
	return h
}
