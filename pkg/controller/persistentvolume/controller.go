// Package persistentvolume binds PersistentVolumeClaims to PersistentVolumes,
// as upstream's persistentvolume-binder controller does for static
// provisioning: an unbound claim takes the smallest Available volume of its
// storage class whose size, access modes, volume mode, attributes class and
// selector fit (a volume pre-bound to it by claimRef first); a volume whose
// claim is gone is Released and then retained, or marked Failed when its
// reclaim policy asks for a deleter or recycler minik8s does not have. Claims
// of a WaitForFirstConsumer class are left to the scheduler, which binds them
// for the node it picks; a class with an external provisioner gets the claim
// annotated for it. Every decision a user waits on is an event on the claim
// or volume, with upstream's reasons and messages.
package persistentvolume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	storageinformers "k8s.io/client-go/informers/storage/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "persistentvolume-binder-controller"

// Config wires the controller.
type Config struct {
	Client  kubernetes.Interface
	Volumes coreinformers.PersistentVolumeInformer
	Claims  coreinformers.PersistentVolumeClaimInformer
	Classes storageinformers.StorageClassInformer
	Pods    coreinformers.PodInformer
	// Recorder reports as upstream's "persistentvolume-controller".
	Recorder events.EventRecorder
	// SyncPeriod is how often unbound claims and volumes are looked at again
	// (upstream's --pvclaimbinder-sync-period); zero means 15s.
	SyncPeriod time.Duration
	Workers    int
	Log        *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Volumes == nil || c.Claims == nil || c.Classes == nil || c.Pods == nil || c.Recorder == nil:
		return errors.New("persistentvolume binder: a client, volume, claim, class and pod informers and a recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("persistentvolume binder: workers must be at least 1, not %d", c.Workers)
	case c.SyncPeriod < 0:
		return fmt.Errorf("persistentvolume binder: the sync period must not be negative")
	}
	return nil
}

// Controller binds claims and volumes.
type Controller struct {
	cfg         Config
	volumes     corelisters.PersistentVolumeLister
	claims      corelisters.PersistentVolumeClaimLister
	classes     storagelisters.StorageClassLister
	podIdx      cache.Indexer
	synced      []cache.InformerSynced
	claimQueue  workqueue.TypedRateLimitingInterface[string]
	volumeQueue workqueue.TypedRateLimitingInterface[string]
	// bindMu makes binding one critical section: two claims must never be
	// matched to the same volume by two workers at once.
	bindMu sync.Mutex
	log    *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SyncPeriod == 0 {
		cfg.SyncPeriod = 15 * time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf := cfg.Pods.Informer()
	if err := podcontrol.AddClaimIndex(podInf); err != nil {
		return nil, fmt.Errorf("persistentvolume binder: %w", err)
	}
	c := &Controller{cfg: cfg, volumes: cfg.Volumes.Lister(), claims: cfg.Claims.Lister(), classes: cfg.Classes.Lister(),
		podIdx: podInf.GetIndexer(), claimQueue: worker.NewQueue("claims"), volumeQueue: worker.NewQueue("volumes"), log: log}
	volReg, err := cfg.Volumes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.volumeChanged,
		UpdateFunc: func(_, obj interface{}) { c.volumeChanged(obj) },
		DeleteFunc: c.volumeDeleted,
	})
	if err != nil {
		return nil, err
	}
	claimReg, err := cfg.Claims.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.claimChanged,
		UpdateFunc: func(_, obj interface{}) { c.claimChanged(obj) },
		DeleteFunc: c.claimDeleted,
	})
	if err != nil {
		return nil, err
	}
	classReg, err := cfg.Classes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{volReg.HasSynced, claimReg.HasSynced, classReg.HasSynced, podInf.HasSynced}
	return c, nil
}

// Run works until ctx ends: claims and volumes have a queue each.
func (c *Controller) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() {
		errc <- worker.Run(ctx, worker.Config[string]{Name: Name + "/volumes", Queue: c.volumeQueue, Synced: c.synced,
			Workers: c.cfg.Workers, Sync: c.syncVolume, Log: c.log})
	}()
	go func() {
		errc <- worker.Run(ctx, worker.Config[string]{Name: Name + "/claims", Queue: c.claimQueue, Synced: c.synced,
			Workers: c.cfg.Workers, Sync: c.syncClaim, Log: c.log})
	}()
	err := <-errc
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// SyncClaim and SyncVolume look at one object once, as a worker would.
func (c *Controller) SyncClaim(ctx context.Context, key string) error  { return c.syncClaim(ctx, key) }
func (c *Controller) SyncVolume(ctx context.Context, key string) error { return c.syncVolume(ctx, key) }

func (c *Controller) claimChanged(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.claimQueue.Add(key)
	}
}

// claimDeleted releases the claim's volume.
func (c *Controller) claimDeleted(obj interface{}) {
	claim, ok := worker.Object[*corev1.PersistentVolumeClaim](obj)
	if ok && claim.Spec.VolumeName != "" {
		c.volumeQueue.Add(claim.Spec.VolumeName)
	}
}

// volumeChanged syncs the volume, and the claims it may now serve: the one it
// names, or, once Available, every unbound claim.
func (c *Controller) volumeChanged(obj interface{}) {
	pv, ok := obj.(*corev1.PersistentVolume)
	if !ok {
		return
	}
	c.volumeQueue.Add(pv.Name)
	if ref := pv.Spec.ClaimRef; ref != nil {
		c.claimQueue.Add(ref.Namespace + "/" + ref.Name)
		return
	}
	claims, err := c.claims.List(labels.Everything())
	if err != nil {
		return
	}
	for _, claim := range claims {
		if claim.Spec.VolumeName == "" && claim.DeletionTimestamp == nil {
			c.claimQueue.Add(claim.Namespace + "/" + claim.Name)
		}
	}
}

// volumeDeleted: a bound claim has lost its volume.
func (c *Controller) volumeDeleted(obj interface{}) {
	pv, ok := worker.Object[*corev1.PersistentVolume](obj)
	if ok && pv.Spec.ClaimRef != nil {
		c.claimQueue.Add(pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name)
	}
}
