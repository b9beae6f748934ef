// Package statefulset runs StatefulSets as upstream's controller does: pods
// with stable names <set>-<ordinal> (from spec.ordinals.start), the pod-name
// and pod-index labels, hostname and subdomain from serviceName, and a claim
// per volumeClaimTemplate per ordinal whose owners follow the
// persistentVolumeClaimRetentionPolicy; OrderedReady or Parallel pod
// management; RollingUpdate (partition, and maxUnavailable behind its feature
// gate) or OnDelete through ControllerRevisions (package history); and the
// status kubectl rollout status reads. Events read as upstream's ("create Pod
// web-0 in StatefulSet web successful").
package statefulset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/kubectl/pkg/util/podutils"

	"github.com/minik8s/minik8s/pkg/controller/history"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "statefulset-controller"

var kind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// Config wires the controller.
type Config struct {
	Client       kubernetes.Interface
	StatefulSets appsinformers.StatefulSetInformer
	Pods         coreinformers.PodInformer
	Claims       coreinformers.PersistentVolumeClaimInformer
	Revisions    appsinformers.ControllerRevisionInformer
	Recorder     events.EventRecorder
	Workers      int
	// MaxUnavailable honours rollingUpdate.maxUnavailable: upstream's
	// MaxUnavailableStatefulSet feature gate, alpha and off by default in
	// v1.34, so pods are updated one at a time unless it is set.
	MaxUnavailable bool
	// Now is the clock (minReadySeconds); nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.StatefulSets == nil || c.Pods == nil || c.Claims == nil || c.Revisions == nil || c.Recorder == nil:
		return errors.New("statefulset controller: a client, statefulset, pod, claim and revision informers and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("statefulset controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller runs StatefulSets.
type Controller struct {
	cfg      Config
	sets     appslisters.StatefulSetLister
	pods     cache.Indexer
	podList  corelisters.PodLister
	claims   corelisters.PersistentVolumeClaimLister
	history  *history.Store
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	recorder events.EventRecorder
	now      func() time.Time
	log      *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf := cfg.Pods.Informer()
	if err := podcontrol.AddControllerIndex(podInf); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, sets: cfg.StatefulSets.Lister(), pods: podInf.GetIndexer(), podList: cfg.Pods.Lister(),
		claims:  cfg.Claims.Lister(),
		history: &history.Store{Client: cfg.Client, Lister: cfg.Revisions.Lister()},
		queue:   worker.NewQueue("statefulset"), recorder: cfg.Recorder, now: cfg.Now, log: log}
	setReg, err := cfg.StatefulSets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	if err != nil {
		return nil, err
	}
	podReg, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	if err != nil {
		return nil, err
	}
	claimReg, err := cfg.Claims.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{})
	if err != nil {
		return nil, err
	}
	revReg, err := cfg.Revisions.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{setReg.HasSynced, podReg.HasSynced, claimReg.HasSynced, revReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync syncs the set named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

// resolve returns the set a controller reference points to, if it is still that set.
func (c *Controller) resolve(namespace string, ref *metav1.OwnerReference) *appsv1.StatefulSet {
	if ref.Kind != kind.Kind {
		return nil
	}
	set, err := c.sets.StatefulSets(namespace).Get(ref.Name)
	if err != nil || set.UID != ref.UID {
		return nil
	}
	return set
}

// matching returns the sets whose selector matches an orphan pod.
func (c *Controller) matching(pod *corev1.Pod) []*appsv1.StatefulSet {
	if len(pod.Labels) == 0 {
		return nil
	}
	list, err := c.sets.StatefulSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.StatefulSet
	for _, s := range list {
		sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, s)
	}
	if len(out) > 1 {
		c.log.Info("more than one StatefulSet selects the same pod", "pod", pod.Namespace+"/"+pod.Name, "labels", pod.Labels)
	}
	return out
}

func (c *Controller) addPod(obj interface{}) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if set := c.resolve(pod.Namespace, ref); set != nil {
			c.enqueue(set)
		}
		return
	}
	for _, set := range c.matching(pod) {
		c.enqueue(set)
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := (oldRef == nil) != (curRef == nil) || (oldRef != nil && oldRef.UID != curRef.UID)
	if refChanged && oldRef != nil {
		if set := c.resolve(old.Namespace, oldRef); set != nil {
			c.enqueue(set)
		}
	}
	if curRef != nil {
		set := c.resolve(cur.Namespace, curRef)
		if set == nil {
			return
		}
		c.enqueue(set)
		// Turned ready: it turns available minReadySeconds later (a second of slack for clock skew, as upstream).
		if !podutils.IsPodReady(old) && podutils.IsPodReady(cur) && set.Spec.MinReadySeconds > 0 {
			if key, ok := worker.Key(set); ok {
				c.queue.AddAfter(key, time.Duration(set.Spec.MinReadySeconds)*time.Second+time.Second)
			}
		}
		return
	}
	if refChanged || !maps.Equal(old.Labels, cur.Labels) {
		for _, set := range c.matching(cur) {
			c.enqueue(set)
		}
	}
}

func (c *Controller) deletePod(obj interface{}) {
	pod, ok := worker.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if set := c.resolve(pod.Namespace, ref); set != nil {
			c.enqueue(set)
		}
	}
}
