// Package replicaset keeps the number of pods of every ReplicaSet (and, through
// package replication, every ReplicationController) at spec.replicas, as
// upstream's ReplicaSet controller does: it adopts matching orphans and releases
// pods that stopped matching through controller references, creates missing pods
// in slow-start batches and deletes surplus ones in upstream's order, waits for
// its own writes to show in the cache (expectations) before acting again, and
// reports replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
// observedGeneration and the ReplicaFailure condition in the status.
package replicaset

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
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/kubectl/pkg/util/podutils"

	"github.com/minik8s/minik8s/pkg/controller/expectations"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "replicaset-controller"
	// BurstReplicas caps the pods created or deleted in one sync, as upstream.
	BurstReplicas = 500
	// controllerUIDIndex indexes ReplicaSets by their own controller (a Deployment).
	controllerUIDIndex = "controllerUID"
)

// Config wires the controller.
type Config struct {
	// Name names the controller in logs and its queue.
	Name     string
	Client   kubernetes.Interface
	Source   Source
	Pods     coreinformers.PodInformer
	Recorder events.EventRecorder
	Workers  int
	// BurstReplicas caps creations and deletions per sync; 0 means BurstReplicas.
	BurstReplicas int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("replicaset controller: a name is required")
	case c.Client == nil || c.Source == nil || c.Pods == nil || c.Recorder == nil:
		return fmt.Errorf("%s: a client, a source, a pod informer and an event recorder are required", c.Name)
	case c.Workers < 1:
		return fmt.Errorf("%s: workers must be at least 1, not %d", c.Name, c.Workers)
	case c.BurstReplicas < 0:
		return fmt.Errorf("%s: burst replicas must not be negative", c.Name)
	}
	return nil
}

// Controller keeps ReplicaSets' pods.
type Controller struct {
	cfg      Config
	kind     string
	pods     cache.Indexer
	sets     cache.Indexer
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	exp      *expectations.Expectations
	control  *podcontrol.Control
	log      *slog.Logger
	now      func() time.Time
	maxBurst int
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BurstReplicas == 0 {
		cfg.BurstReplicas = BurstReplicas
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf, setInf := cfg.Pods.Informer(), cfg.Source.Informer()
	if err := podcontrol.AddControllerIndex(podInf); err != nil {
		return nil, err
	}
	if _, ok := setInf.GetIndexer().GetIndexers()[controllerUIDIndex]; !ok {
		if err := setInf.AddIndexers(cache.Indexers{controllerUIDIndex: byControllerUID}); err != nil {
			return nil, err
		}
	}
	c := &Controller{cfg: cfg, kind: cfg.Source.Kind().Kind, pods: podInf.GetIndexer(), sets: setInf.GetIndexer(),
		queue: worker.NewQueue(cfg.Name), exp: expectations.New(expectations.DefaultTTL, cfg.Now),
		control: &podcontrol.Control{Client: cfg.Client, Recorder: cfg.Recorder}, log: log, now: cfg.Now, maxBurst: cfg.BurstReplicas}
	setReg, err := setInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueSet,
		UpdateFunc: c.updateSet,
		DeleteFunc: c.deleteSet,
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
	c.synced = []cache.InformerSynced{setReg.HasSynced, podReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: c.cfg.Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

func byControllerUID(obj interface{}) ([]string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

func (c *Controller) enqueueSet(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) updateSet(oldObj, newObj interface{}) {
	old, ok1 := c.cfg.Source.AsReplicaSet(oldObj)
	cur, ok2 := c.cfg.Source.AsReplicaSet(newObj)
	if ok1 && ok2 && old.UID != cur.UID {
		// Deleted and recreated between two looks: forget the old one's expectations.
		if key, ok := worker.Key(oldObj); ok {
			c.exp.Delete(key)
		}
	}
	c.enqueueSet(newObj)
}

func (c *Controller) deleteSet(obj interface{}) {
	key, ok := worker.Key(obj)
	if !ok {
		return
	}
	// A namesake created later starts clean.
	c.exp.Delete(key)
	c.queue.Add(key)
}

// resolve returns the key of the set a controller reference points to, if it is
// ours and still the same object.
func (c *Controller) resolve(namespace string, ref *metav1.OwnerReference) (string, *appsv1.ReplicaSet, bool) {
	if ref.Kind != c.kind {
		return "", nil, false
	}
	key := namespace + "/" + ref.Name
	obj, exists, err := c.sets.GetByKey(key)
	if err != nil || !exists {
		return "", nil, false
	}
	rs, ok := c.cfg.Source.AsReplicaSet(obj)
	if !ok || rs.UID != ref.UID {
		return "", nil, false
	}
	return key, rs, true
}

// matchingSets returns the keys of the sets whose selector matches an orphan pod.
func (c *Controller) matchingSets(pod *corev1.Pod) []string {
	if len(pod.Labels) == 0 {
		return nil
	}
	objs, err := c.sets.ByIndex(cache.NamespaceIndex, pod.Namespace)
	if err != nil {
		return nil
	}
	var keys []string
	for _, o := range objs {
		rs, ok := c.cfg.Source.AsReplicaSet(o)
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		keys = append(keys, rs.Namespace+"/"+rs.Name)
	}
	if len(keys) > 1 {
		c.log.Info("more than one selects the same pods", "kind", c.kind, "pod", pod.Namespace+"/"+pod.Name, "labels", pod.Labels)
	}
	return keys
}

// addPod: a new pod is a creation its controller awaited, or an orphan that
// matching sets may adopt.
func (c *Controller) addPod(obj interface{}) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already being deleted (a restart): not a creation.
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if key, _, ok := c.resolve(pod.Namespace, ref); ok {
			c.exp.CreationObserved(key)
			c.queue.Add(key)
		}
		return
	}
	for _, key := range c.matchingSets(pod) {
		c.queue.Add(key)
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return // a resync: nothing changed
	}
	labelsChanged := !maps.Equal(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		// A graceful deletion starts: count it now, not when the kubelet finishes.
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !refEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		if key, _, ok := c.resolve(old.Namespace, oldRef); ok {
			c.queue.Add(key)
		}
	}
	if curRef != nil {
		key, rs, ok := c.resolve(cur.Namespace, curRef)
		if !ok {
			return
		}
		c.queue.Add(key)
		// Turned ready: look again when it turns available.
		if !podutils.IsPodReady(old) && podutils.IsPodReady(cur) && rs.Spec.MinReadySeconds > 0 {
			c.queue.AddAfter(key, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, key := range c.matchingSets(cur) {
			c.queue.Add(key)
		}
	}
}

func (c *Controller) deletePod(obj interface{}) {
	pod, ok := worker.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	if key, _, ok := c.resolve(pod.Namespace, ref); ok {
		c.exp.DeletionObserved(key, podcontrol.Key(pod))
		c.queue.Add(key)
	}
}

func refEqual(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID
}

// Sync syncs the set named by key (namespace/name) once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }
