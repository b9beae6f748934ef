// Package pvcprotection keeps a PersistentVolumeClaim from going away while a
// pod uses it, as upstream's pvc-protection controller does: every claim
// carries the kubernetes.io/pvc-protection finalizer, and a deleted claim loses
// it only once no scheduled pod names it (checked in the cache, then by a live
// list, since the cache may not have a new pod yet). Until then `kubectl get
// pvc` shows it Terminating.
package pvcprotection

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
	"k8s.io/component-helpers/storage/ephemeral"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "persistentvolumeclaim-protection-controller"

// Finalizer is upstream's claim protection finalizer.
const Finalizer = "kubernetes.io/pvc-protection"

// Config wires the controller.
type Config struct {
	Client  kubernetes.Interface
	Claims  coreinformers.PersistentVolumeClaimInformer
	Pods    coreinformers.PodInformer
	Workers int
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Claims == nil || c.Pods == nil:
		return errors.New("pvc protection controller: a client and claim and pod informers are required")
	case c.Workers < 1:
		return fmt.Errorf("pvc protection controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller adds and removes the protection finalizer.
type Controller struct {
	cfg    Config
	claims corelisters.PersistentVolumeClaimLister
	podIdx cache.Indexer
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	log    *slog.Logger
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
	claimInf, podInf := cfg.Claims.Informer(), cfg.Pods.Informer()
	if err := podcontrol.AddClaimIndex(podInf); err != nil {
		return nil, fmt.Errorf("pvc protection controller: %w", err)
	}
	c := &Controller{cfg: cfg, claims: cfg.Claims.Lister(), podIdx: podInf.GetIndexer(), queue: worker.NewQueue("pvcprotection"), log: log}
	claimReg, err := claimInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.claimChanged,
		UpdateFunc: func(_, obj interface{}) { c.claimChanged(obj) },
	})
	if err != nil {
		return nil, err
	}
	podReg, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) { c.podChanged(obj, false) },
		UpdateFunc: func(old, obj interface{}) {
			c.podChanged(obj, false)
			// A pod replaced by a namesake: the old one's claims may be free.
			if o, ok := old.(*corev1.Pod); ok && o.UID != obj.(*corev1.Pod).UID {
				c.podChanged(o, true)
			}
		},
		DeleteFunc: func(obj interface{}) { c.podChanged(obj, true) },
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{claimReg.HasSynced, podReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the claim named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) claimChanged(obj interface{}) {
	claim, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || (!needsFinalizer(claim) && !deletionCandidate(claim)) {
		return
	}
	if key, ok := worker.Key(claim); ok {
		c.queue.Add(key)
	}
}

// podChanged looks again at the claims of a pod that may no longer hold them:
// one deleted, finished, or never scheduled.
func (c *Controller) podChanged(obj interface{}, deleted bool) {
	p, ok := worker.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	if !deleted && p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		return
	}
	for _, name := range podcontrol.ClaimNames(p) {
		c.queue.Add(p.Namespace + "/" + name)
	}
}

func needsFinalizer(claim *corev1.PersistentVolumeClaim) bool {
	return claim.DeletionTimestamp == nil && !slices.Contains(claim.Finalizers, Finalizer)
}

func deletionCandidate(claim *corev1.PersistentVolumeClaim) bool {
	return claim.DeletionTimestamp != nil && slices.Contains(claim.Finalizers, Finalizer)
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	claim, err := c.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case deletionCandidate(claim):
		used, err := c.inUse(ctx, claim)
		if err != nil || used {
			return err
		}
		return c.setFinalizer(ctx, claim, false)
	case needsFinalizer(claim):
		return c.setFinalizer(ctx, claim, true)
	}
	return nil
}

// inUse asks the cache first; only when it knows no user does it list the
// namespace's pods live, as a pod just created may not be cached yet.
func (c *Controller) inUse(ctx context.Context, claim *corev1.PersistentVolumeClaim) (bool, error) {
	cached, err := podcontrol.UsingClaim(c.podIdx, claim.Namespace, claim.Name)
	if err != nil {
		return false, err
	}
	for _, p := range cached {
		if PodUsesClaim(p, claim) {
			return true, nil
		}
	}
	live, err := c.cfg.Client.CoreV1().Pods(claim.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, fmt.Errorf("list pods in %s: %w", claim.Namespace, err)
	}
	for i := range live.Items {
		if PodUsesClaim(&live.Items[i], claim) {
			return true, nil
		}
	}
	return false, nil
}

// PodUsesClaim: a pod holds a claim once scheduled (the node may mount it)
// and until it is gone. A claim made for one of its ephemeral volumes is let
// go earlier, once the pod is shut down (deleted with no grace left), which
// breaks the cycle of a pod finalizer waiting for its own claim.
func PodUsesClaim(p *corev1.Pod, claim *corev1.PersistentVolumeClaim) bool {
	if p.Namespace != claim.Namespace || p.Spec.NodeName == "" {
		return false
	}
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i]
		switch {
		case v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim.Name:
			return true
		case v.Ephemeral != nil && !shutDown(p) && ephemeral.VolumeClaimName(p, v) == claim.Name && ephemeral.VolumeIsForPod(p, claim) == nil:
			return true
		}
	}
	return false
}

func shutDown(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && p.DeletionGracePeriodSeconds != nil && *p.DeletionGracePeriodSeconds == 0
}

func (c *Controller) setFinalizer(ctx context.Context, claim *corev1.PersistentVolumeClaim, add bool) error {
	claim = claim.DeepCopy()
	if add {
		claim.Finalizers = append(claim.Finalizers, Finalizer)
	} else {
		claim.Finalizers = slices.DeleteFunc(claim.Finalizers, func(f string) bool { return f == Finalizer })
	}
	_, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, claim, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update finalizers of claim %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	c.log.Debug("claim protection finalizer", "claim", claim.Namespace+"/"+claim.Name, "added", add)
	return nil
}
