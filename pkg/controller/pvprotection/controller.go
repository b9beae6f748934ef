// Package pvprotection keeps a PersistentVolume from going away while it is
// bound to a claim, as upstream's pv-protection controller does: every volume
// carries the kubernetes.io/pv-protection finalizer, and a deleted volume loses
// it once its phase is no longer Bound.
package pvprotection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "persistentvolume-protection-controller"

// Finalizer is upstream's volume protection finalizer.
const Finalizer = "kubernetes.io/pv-protection"

// Config wires the controller.
type Config struct {
	Client  kubernetes.Interface
	Volumes coreinformers.PersistentVolumeInformer
	Workers int
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Volumes == nil:
		return errors.New("pv protection controller: a client and a volume informer are required")
	case c.Workers < 1:
		return fmt.Errorf("pv protection controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller adds and removes the protection finalizer.
type Controller struct {
	cfg     Config
	volumes corelisters.PersistentVolumeLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	log     *slog.Logger
}

// New wires the controller to the volume informer.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, volumes: cfg.Volumes.Lister(), queue: worker.NewQueue("pvprotection"), log: log}
	reg, err := cfg.Volumes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.volumeChanged,
		UpdateFunc: func(_, obj interface{}) { c.volumeChanged(obj) },
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

// Sync looks at the volume named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) volumeChanged(obj interface{}) {
	pv, ok := obj.(*corev1.PersistentVolume)
	if ok && Decide(pv) != Nothing {
		c.queue.Add(pv.Name)
	}
}

// Action is what a volume needs.
type Action int

const (
	Nothing Action = iota
	AddFinalizer
	RemoveFinalizer
)

// Decide: a live volume must carry the finalizer; a deleted one keeps it
// while bound.
func Decide(pv *corev1.PersistentVolume) Action {
	has := slices.Contains(pv.Finalizers, Finalizer)
	switch {
	case pv.DeletionTimestamp == nil && !has:
		return AddFinalizer
	case pv.DeletionTimestamp != nil && has && pv.Status.Phase != corev1.VolumeBound:
		return RemoveFinalizer
	}
	return Nothing
}

func (c *Controller) sync(ctx context.Context, key string) error {
	pv, err := c.volumes.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	action := Decide(pv)
	if action == Nothing {
		return nil
	}
	pv = pv.DeepCopy()
	if action == AddFinalizer {
		pv.Finalizers = append(pv.Finalizers, Finalizer)
	} else {
		pv.Finalizers = slices.DeleteFunc(pv.Finalizers, func(f string) bool { return f == Finalizer })
	}
	_, err = c.cfg.Client.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update finalizers of volume %s: %w", key, err)
	}
	return nil
}
