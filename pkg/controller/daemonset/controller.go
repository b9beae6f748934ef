// Package daemonset runs DaemonSets as upstream's controller does: one pod on
// every node the DaemonSet's nodeSelector, required node affinity and
// tolerations (plus the tolerations upstream gives every daemon pod) admit.
// Pods are created pinned to their node by required node affinity on
// metadata.name, not by nodeName, so the scheduler still places them. New
// nodes get a pod, nodes that stop matching lose theirs; RollingUpdate within
// maxUnavailable and maxSurge or OnDelete, through ControllerRevisions
// (package history); failed pods are replaced with back-off. Status, events
// and kubectl rollout read as upstream's.
package daemonset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"sync"
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
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/kubectl/pkg/util/podutils"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/expectations"
	"github.com/minik8s/minik8s/pkg/controller/history"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "daemonset-controller"
	// BurstReplicas caps the pods created or deleted in one sync, as upstream.
	BurstReplicas = 250
	// nodeNameIndex indexes pods by spec.nodeName.
	nodeNameIndex = "spec.nodeName"
	// defaultHistoryLimit stands in for an unset revisionHistoryLimit (the API defaults it).
	defaultHistoryLimit = 10
	// Failed pods on a node are replaced after a back-off growing from a
	// second to fifteen minutes (upstream's kube-controller-manager values).
	failedBackoffInitial = time.Second
	failedBackoffMax     = 15 * time.Minute
	backoffGCInterval    = time.Minute
)

var kind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Config wires the controller.
type Config struct {
	Client     kubernetes.Interface
	DaemonSets appsinformers.DaemonSetInformer
	Revisions  appsinformers.ControllerRevisionInformer
	Pods       coreinformers.PodInformer
	Nodes      coreinformers.NodeInformer
	Recorder   events.EventRecorder
	Workers    int
	// BurstReplicas caps creations and deletions per sync; 0 means BurstReplicas.
	BurstReplicas int
	// Clock times minReadySeconds and the failed-pod back-off; nil means the real clock.
	Clock clock.Clock
	Log   *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.DaemonSets == nil || c.Revisions == nil || c.Pods == nil || c.Nodes == nil || c.Recorder == nil:
		return errors.New("daemonset controller: a client, daemonset, revision, pod and node informers and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("daemonset controller: workers must be at least 1, not %d", c.Workers)
	case c.BurstReplicas < 0:
		return errors.New("daemonset controller: burst replicas must not be negative")
	}
	return nil
}

// Controller runs DaemonSets.
type Controller struct {
	cfg       Config
	sets      appslisters.DaemonSetLister
	nodes     corelisters.NodeLister
	pods      cache.Indexer
	history   *history.Store
	control   *podcontrol.Control
	exp       *expectations.Expectations
	backoff   *flowcontrol.Backoff
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	nodeQueue workqueue.TypedRateLimitingInterface[string]
	recorder  events.EventRecorder
	clock     clock.Clock
	log       *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.BurstReplicas == 0 {
		cfg.BurstReplicas = BurstReplicas
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf := cfg.Pods.Informer()
	if err := podcontrol.AddControllerIndex(podInf); err != nil {
		return nil, err
	}
	if _, ok := podInf.GetIndexer().GetIndexers()[nodeNameIndex]; !ok {
		if err := podInf.AddIndexers(cache.Indexers{nodeNameIndex: byNodeName}); err != nil {
			return nil, err
		}
	}
	c := &Controller{cfg: cfg, sets: cfg.DaemonSets.Lister(), nodes: cfg.Nodes.Lister(), pods: podInf.GetIndexer(),
		history:   &history.Store{Client: cfg.Client, Lister: cfg.Revisions.Lister()},
		control:   &podcontrol.Control{Client: cfg.Client, Recorder: cfg.Recorder},
		exp:       expectations.New(expectations.DefaultTTL, cfg.Clock.Now),
		backoff:   flowcontrol.NewFakeBackOff(failedBackoffInitial, failedBackoffMax, cfg.Clock),
		queue:     worker.NewQueue("daemonset"),
		nodeQueue: worker.NewQueue("daemonset-node-updates"),
		recorder:  cfg.Recorder, clock: cfg.Clock, log: log}
	dsReg, err := cfg.DaemonSets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: c.updateDaemonSet,
		DeleteFunc: c.deleteDaemonSet,
	})
	if err != nil {
		return nil, err
	}
	revReg, err := cfg.Revisions.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addRevision,
		UpdateFunc: c.updateRevision,
		DeleteFunc: c.deleteRevision,
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
	nodeReg, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addNode,
		UpdateFunc: c.updateNode,
		DeleteFunc: c.deleteNode,
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{dsReg.HasSynced, revReg.HasSynced, podReg.HasSynced, nodeReg.HasSynced}
	return c, nil
}

// Run works until ctx ends: DaemonSet syncs, node changes, and the clean-up
// of expired back-off entries.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(3)
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
	}()
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name + " (nodes)", Queue: c.nodeQueue, Synced: c.synced, Workers: c.cfg.Workers,
			Sync: c.syncNode, Log: c.log})
	}()
	go func() {
		defer wg.Done()
		for {
			t := c.clock.NewTimer(backoffGCInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
				c.backoff.GC()
			}
		}
	}()
	wg.Wait()
	close(errs)
	return errors.Join(<-errs, <-errs)
}

// Sync syncs the DaemonSet named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func byNodeName(obj interface{}) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.NodeName == "" {
		return nil, nil
	}
	return []string{p.Spec.NodeName}, nil
}

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) updateDaemonSet(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*appsv1.DaemonSet)
	cur, ok2 := newObj.(*appsv1.DaemonSet)
	if ok1 && ok2 && old.UID != cur.UID {
		// Deleted and recreated between two looks.
		c.deleteDaemonSet(cache.DeletedFinalStateUnknown{Key: old.Namespace + "/" + old.Name, Obj: old})
	}
	c.enqueue(newObj)
}

func (c *Controller) deleteDaemonSet(obj interface{}) {
	key, ok := worker.Key(obj)
	if !ok {
		return
	}
	c.exp.Delete(key)
	c.queue.Add(key)
}

// resolve returns the DaemonSet a controller reference points to, if it is still that one.
func (c *Controller) resolve(namespace string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	if ref.Kind != kind.Kind {
		return nil
	}
	ds, err := c.sets.DaemonSets(namespace).Get(ref.Name)
	if err != nil || ds.UID != ref.UID {
		return nil
	}
	return ds
}

// matching returns the DaemonSets whose selector matches an orphan's labels.
func (c *Controller) matching(namespace string, objLabels map[string]string) []*appsv1.DaemonSet {
	if len(objLabels) == 0 {
		return nil
	}
	list, err := c.sets.DaemonSets(namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.DaemonSet
	for _, ds := range list {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(objLabels)) {
			continue
		}
		out = append(out, ds)
	}
	return out
}

func (c *Controller) addRevision(obj interface{}) {
	rev, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return
	}
	if rev.DeletionTimestamp != nil {
		c.deleteRevision(rev)
		return
	}
	if metav1.GetControllerOfNoCopy(rev) != nil {
		return // its owner made it
	}
	for _, ds := range c.matching(rev.Namespace, rev.Labels) {
		c.enqueue(ds)
	}
}

func (c *Controller) updateRevision(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*appsv1.ControllerRevision)
	cur, ok2 := newObj.(*appsv1.ControllerRevision)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !reflect.DeepEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		if ds := c.resolve(old.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		if ds := c.resolve(cur.Namespace, curRef); ds != nil {
			c.enqueue(ds)
		}
		return
	}
	if refChanged || !maps.Equal(old.Labels, cur.Labels) {
		for _, ds := range c.matching(cur.Namespace, cur.Labels) {
			c.enqueue(ds)
		}
	}
}

func (c *Controller) deleteRevision(obj interface{}) {
	rev, ok := worker.Object[*appsv1.ControllerRevision](obj)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rev); ref != nil {
		if ds := c.resolve(rev.Namespace, ref); ds != nil {
			c.enqueue(ds)
		}
	}
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
		if ds := c.resolve(pod.Namespace, ref); ds != nil {
			key := ds.Namespace + "/" + ds.Name
			c.exp.CreationObserved(key)
			c.queue.Add(key)
		}
		return
	}
	for _, ds := range c.matching(pod.Namespace, pod.Labels) {
		c.enqueue(ds)
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil {
		c.deletePod(cur)
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !reflect.DeepEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		if ds := c.resolve(old.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		ds := c.resolve(cur.Namespace, curRef)
		if ds == nil {
			return
		}
		c.enqueue(ds)
		if !podutils.IsPodReady(old) && podutils.IsPodReady(cur) && ds.Spec.MinReadySeconds > 0 {
			// It turns available minReadySeconds later (a second of slack, as upstream).
			c.queue.AddAfter(ds.Namespace+"/"+ds.Name, time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if refChanged || !maps.Equal(old.Labels, cur.Labels) {
		for _, ds := range c.matching(cur.Namespace, cur.Labels) {
			c.enqueue(ds)
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
	if ds := c.resolve(pod.Namespace, ref); ds != nil {
		key := ds.Namespace + "/" + ds.Name
		c.exp.DeletionObserved(key, podcontrol.Key(pod))
		c.queue.Add(key)
	}
}

func (c *Controller) addNode(obj interface{}) {
	if node, ok := obj.(*corev1.Node); ok {
		c.nodeQueue.Add(node.Name)
	}
}

// updateNode: only labels and taints change where daemon pods belong.
func (c *Controller) updateNode(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Node)
	cur, ok2 := newObj.(*corev1.Node)
	if !ok1 || !ok2 || (maps.Equal(old.Labels, cur.Labels) && reflect.DeepEqual(old.Spec.Taints, cur.Spec.Taints)) {
		return
	}
	c.nodeQueue.Add(cur.Name)
}

// deleteNode: a node that goes takes its share of the counts with it, so the
// DaemonSets with pods there look again. (The pods themselves are left to the
// pod garbage collector, as upstream.)
func (c *Controller) deleteNode(obj interface{}) {
	node, ok := worker.Object[*corev1.Node](obj)
	if !ok {
		return
	}
	objs, err := c.pods.ByIndex(nodeNameIndex, node.Name)
	if err != nil {
		return
	}
	for _, o := range objs {
		pod := o.(*corev1.Pod)
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
			if ds := c.resolve(pod.Namespace, ref); ds != nil {
				c.enqueue(ds)
			}
		}
	}
}
