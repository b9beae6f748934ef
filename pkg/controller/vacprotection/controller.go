// Package vacprotection keeps a VolumeAttributesClass from going away while a
// volume or claim refers to it, as upstream's volumeattributesclass-protection
// controller does: every class carries the kubernetes.io/vac-protection
// finalizer, and a deleted class loses it once no PersistentVolume names it
// and no PersistentVolumeClaim names it in its spec, its current class or the
// target of a modification in progress.
package vacprotection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	storageinformers "k8s.io/client-go/informers/storage/v1"
	"k8s.io/client-go/kubernetes"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "volumeattributesclass-protection-controller"

// Finalizer is upstream's class protection finalizer.
const Finalizer = "kubernetes.io/vac-protection"

const byClass = "volumeAttributesClass"

// Config wires the controller.
type Config struct {
	Client  kubernetes.Interface
	Classes storageinformers.VolumeAttributesClassInformer
	Volumes coreinformers.PersistentVolumeInformer
	Claims  coreinformers.PersistentVolumeClaimInformer
	Workers int
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Classes == nil || c.Volumes == nil || c.Claims == nil:
		return errors.New("vac protection controller: a client and class, volume and claim informers are required")
	case c.Workers < 1:
		return fmt.Errorf("vac protection controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller adds and removes the protection finalizer.
type Controller struct {
	cfg       Config
	classes   storagelisters.VolumeAttributesClassLister
	volumeIdx cache.Indexer
	claimIdx  cache.Indexer
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	log       *slog.Logger
}

// ClaimClasses are the classes a claim refers to.
func ClaimClasses(pvc *corev1.PersistentVolumeClaim) []string {
	var out []string
	add := func(n string) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	add(ptr.Deref(pvc.Spec.VolumeAttributesClassName, ""))
	add(ptr.Deref(pvc.Status.CurrentVolumeAttributesClassName, ""))
	if s := pvc.Status.ModifyVolumeStatus; s != nil {
		add(s.TargetVolumeAttributesClassName)
	}
	return out
}

// VolumeClasses are the classes a volume refers to.
func VolumeClasses(pv *corev1.PersistentVolume) []string {
	if n := ptr.Deref(pv.Spec.VolumeAttributesClassName, ""); n != "" {
		return []string{n}
	}
	return nil
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
	classInf, volInf, claimInf := cfg.Classes.Informer(), cfg.Volumes.Informer(), cfg.Claims.Informer()
	if _, ok := volInf.GetIndexer().GetIndexers()[byClass]; !ok {
		if err := volInf.AddIndexers(cache.Indexers{byClass: func(obj interface{}) ([]string, error) {
			pv, ok := obj.(*corev1.PersistentVolume)
			if !ok {
				return nil, nil
			}
			return VolumeClasses(pv), nil
		}}); err != nil {
			return nil, err
		}
	}
	if _, ok := claimInf.GetIndexer().GetIndexers()[byClass]; !ok {
		if err := claimInf.AddIndexers(cache.Indexers{byClass: func(obj interface{}) ([]string, error) {
			pvc, ok := obj.(*corev1.PersistentVolumeClaim)
			if !ok {
				return nil, nil
			}
			return ClaimClasses(pvc), nil
		}}); err != nil {
			return nil, err
		}
	}
	c := &Controller{cfg: cfg, classes: cfg.Classes.Lister(), volumeIdx: volInf.GetIndexer(), claimIdx: claimInf.GetIndexer(),
		queue: worker.NewQueue("vacprotection"), log: log}
	classReg, err := classInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.classChanged,
		UpdateFunc: func(_, obj interface{}) { c.classChanged(obj) },
	})
	if err != nil {
		return nil, err
	}
	// A volume or claim that stops naming a class may free it.
	volReg, err := volInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(old, _ interface{}) { c.enqueueVolume(old) },
		DeleteFunc: c.enqueueVolume,
	})
	if err != nil {
		return nil, err
	}
	claimReg, err := claimInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(old, _ interface{}) { c.enqueueClaim(old) },
		DeleteFunc: c.enqueueClaim,
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{classReg.HasSynced, volReg.HasSynced, claimReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the class named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) classChanged(obj interface{}) {
	vac, ok := obj.(*storagev1.VolumeAttributesClass)
	if ok && (needsFinalizer(vac) || deletionCandidate(vac)) {
		c.queue.Add(vac.Name)
	}
}

func (c *Controller) enqueueVolume(obj interface{}) {
	if pv, ok := worker.Object[*corev1.PersistentVolume](obj); ok {
		for _, n := range VolumeClasses(pv) {
			c.queue.Add(n)
		}
	}
}

func (c *Controller) enqueueClaim(obj interface{}) {
	if pvc, ok := worker.Object[*corev1.PersistentVolumeClaim](obj); ok {
		for _, n := range ClaimClasses(pvc) {
			c.queue.Add(n)
		}
	}
}

func needsFinalizer(vac *storagev1.VolumeAttributesClass) bool {
	return vac.DeletionTimestamp == nil && !slices.Contains(vac.Finalizers, Finalizer)
}

func deletionCandidate(vac *storagev1.VolumeAttributesClass) bool {
	return vac.DeletionTimestamp != nil && slices.Contains(vac.Finalizers, Finalizer)
}

func (c *Controller) sync(ctx context.Context, key string) error {
	vac, err := c.classes.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var add bool
	switch {
	case deletionCandidate(vac):
		used, err := c.inUse(vac.Name)
		if err != nil || used {
			return err
		}
	case needsFinalizer(vac):
		add = true
	default:
		return nil
	}
	vac = vac.DeepCopy()
	if add {
		vac.Finalizers = append(vac.Finalizers, Finalizer)
	} else {
		vac.Finalizers = slices.DeleteFunc(vac.Finalizers, func(f string) bool { return f == Finalizer })
	}
	_, err = c.cfg.Client.StorageV1().VolumeAttributesClasses().Update(ctx, vac, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update finalizers of volume attributes class %s: %w", key, err)
	}
	return nil
}

func (c *Controller) inUse(name string) (bool, error) {
	for _, idx := range []cache.Indexer{c.volumeIdx, c.claimIdx} {
		objs, err := idx.ByIndex(byClass, name)
		if err != nil {
			return true, err
		}
		if len(objs) > 0 {
			return true, nil
		}
	}
	return false, nil
}
