// Package ephemeralvolume makes the PersistentVolumeClaim of every generic
// ephemeral volume (a pod volume with `ephemeral.volumeClaimTemplate`), as
// upstream's ephemeral-volume controller does: named <pod>-<volume>, owned by
// the pod (so the garbage collector deletes it with the pod), made again if
// deleted while the pod lives. A claim of that name that the pod does not own
// is never taken over: the pod gets a FailedBinding event instead.
package ephemeralvolume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/component-helpers/storage/ephemeral"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "ephemeral-volume-controller"

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	Pods     coreinformers.PodInformer
	Claims   coreinformers.PersistentVolumeClaimInformer
	Recorder events.EventRecorder
	Workers  int
	Log      *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Pods == nil || c.Claims == nil || c.Recorder == nil:
		return errors.New("ephemeral volume controller: a client, pod and claim informers and a recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("ephemeral volume controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller makes ephemeral volumes' claims.
type Controller struct {
	cfg    Config
	pods   corelisters.PodLister
	podIdx cache.Indexer
	claims corelisters.PersistentVolumeClaimLister
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
	podInf, claimInf := cfg.Pods.Informer(), cfg.Claims.Informer()
	if err := podcontrol.AddClaimIndex(podInf); err != nil {
		return nil, fmt.Errorf("ephemeral volume controller: %w", err)
	}
	c := &Controller{cfg: cfg, pods: cfg.Pods.Lister(), podIdx: podInf.GetIndexer(), claims: cfg.Claims.Lister(),
		queue: worker.NewQueue("ephemeral_volume"), log: log}
	podReg, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueuePod,
		UpdateFunc: func(_, obj interface{}) { c.enqueuePod(obj) },
	})
	if err != nil {
		return nil, err
	}
	claimReg, err := claimInf.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.claimDeleted})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{podReg.HasSynced, claimReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the pod named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueuePod(obj interface{}) {
	p, ok := worker.Object[*corev1.Pod](obj)
	if !ok || !wantsClaims(p) {
		return
	}
	if key, ok := worker.Key(p); ok {
		c.queue.Add(key)
	}
}

// claimDeleted brings back a claim a living pod still needs.
func (c *Controller) claimDeleted(obj interface{}) {
	claim, ok := worker.Object[*corev1.PersistentVolumeClaim](obj)
	if !ok {
		return
	}
	pods, err := podcontrol.UsingClaim(c.podIdx, claim.Namespace, claim.Name)
	if err != nil {
		return
	}
	for _, p := range pods {
		c.enqueuePod(p)
	}
}

// wantsClaims: a pod not being deleted with at least one ephemeral volume.
func wantsClaims(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, v := range p.Spec.Volumes {
		if v.Ephemeral != nil {
			return true
		}
	}
	return false
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !wantsClaims(pod) {
		return nil
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.Ephemeral == nil {
			continue
		}
		if err := c.ensureClaim(ctx, pod, v); err != nil {
			c.cfg.Recorder.Eventf(pod, nil, corev1.EventTypeWarning, "FailedBinding", "CreateClaim", "ephemeral volume %s: %v", v.Name, err)
			return fmt.Errorf("pod %s, ephemeral volume %s: %w", key, v.Name, err)
		}
	}
	return nil
}

// ensureClaim makes the volume's claim unless it exists; an existing one must
// belong to the pod.
func (c *Controller) ensureClaim(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) error {
	name := ephemeral.VolumeClaimName(pod, v)
	existing, err := c.claims.PersistentVolumeClaims(pod.Namespace).Get(name)
	switch {
	case err == nil:
		return ephemeral.VolumeIsForPod(pod, existing)
	case !apierrors.IsNotFound(err):
		return err
	}
	_, err = c.cfg.Client.CoreV1().PersistentVolumeClaims(pod.Namespace).Create(ctx, ClaimFor(pod, v), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// The cache was behind: whose is it?
		live, gerr := c.cfg.Client.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("read PVC %s: %w", name, gerr)
		}
		return ephemeral.VolumeIsForPod(pod, live)
	}
	if err != nil {
		return fmt.Errorf("create PVC %s: %w", name, err)
	}
	c.log.Debug("created claim for ephemeral volume", "pod", pod.Namespace+"/"+pod.Name, "claim", name)
	return nil
}

// ClaimFor is the claim an ephemeral volume of a pod stands for: the
// template's labels, annotations and spec, controlled by the pod.
func ClaimFor(pod *corev1.Pod, v *corev1.Volume) *corev1.PersistentVolumeClaim {
	t := v.Ephemeral.VolumeClaimTemplate
	yes := true
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ephemeral.VolumeClaimName(pod, v),
			Namespace: pod.Namespace,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID,
				Controller: &yes, BlockOwnerDeletion: &yes}},
		},
	}
	if t != nil {
		claim.Labels = maps.Clone(t.Labels)
		claim.Annotations = maps.Clone(t.Annotations)
		claim.Spec = *t.Spec.DeepCopy()
	}
	return claim
}
