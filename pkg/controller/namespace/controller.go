// Package namespace finishes namespace deletion: when a namespace is marked for
// deletion it deletes everything in it, then removes the "kubernetes" finalizer so
// the API server can remove the namespace itself.
package namespace

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Controller deletes the contents of terminating namespaces.
type Controller struct {
	client  kubernetes.Interface
	lister  corelisters.NamespaceLister
	synced  cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	deleter *contentDeleter
	log     *slog.Logger
}

// New wires the controller to a namespace informer.
func New(client kubernetes.Interface, informer coreinformers.NamespaceInformer, deleter *contentDeleter, log *slog.Logger) *Controller {
	c := &Controller{
		client: client,
		lister: informer.Lister(),
		synced: informer.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "namespace"}),
		deleter: deleter,
		log:     log,
	}
	_, _ = informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
	})
	return c
}

func (c *Controller) enqueue(obj interface{}) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok || ns.DeletionTimestamp == nil {
		return
	}
	c.queue.Add(ns.Name)
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return fmt.Errorf("namespace controller: caches did not sync")
	}
	for i := 0; i < workers; i++ {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	<-ctx.Done()
	return nil
}

func (c *Controller) worker(ctx context.Context) {
	for c.next(ctx) {
	}
}

func (c *Controller) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	requeue, err := c.sync(ctx, key)
	switch {
	case err != nil:
		c.log.Info("namespace deletion will be retried", "namespace", key, "err", err)
		c.queue.AddRateLimited(key)
	case requeue > 0:
		c.queue.AddAfter(key, requeue)
	default:
		c.queue.Forget(key)
	}
	return true
}

// sync deletes what is left in a terminating namespace; it asks to be called again
// while content (waiting on finalizers or grace periods) remains.
func (c *Controller) sync(ctx context.Context, name string) (time.Duration, error) {
	ns, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if ns.DeletionTimestamp == nil || !hasFinalizer(ns) {
		return 0, nil
	}
	remaining, err := c.deleter.deleteAll(ctx, name)
	if err != nil {
		c.setCondition(ctx, ns, corev1.NamespaceDeletionContentFailure, err.Error())
		return 0, err
	}
	if remaining > 0 {
		c.setCondition(ctx, ns, corev1.NamespaceContentRemaining, fmt.Sprintf("Some resources are remaining: %d objects", remaining))
		return 2 * time.Second, nil
	}
	return 0, c.finalize(ctx, ns)
}

func hasFinalizer(ns *corev1.Namespace) bool {
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return true
		}
	}
	return false
}

// finalize removes the "kubernetes" finalizer through namespaces/finalize.
func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	ns = ns.DeepCopy()
	var keep []corev1.FinalizerName
	for _, f := range ns.Spec.Finalizers {
		if f != corev1.FinalizerKubernetes {
			keep = append(keep, f)
		}
	}
	ns.Spec.Finalizers = keep
	_, err := c.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1Update)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// setCondition records why deletion is not finished, as upstream's conditions do.
func (c *Controller) setCondition(ctx context.Context, ns *corev1.Namespace, t corev1.NamespaceConditionType, msg string) {
	ns = ns.DeepCopy()
	cond := corev1.NamespaceCondition{Type: t, Status: corev1.ConditionTrue, Reason: string(t), Message: msg, LastTransitionTime: metav1Now()}
	for i := range ns.Status.Conditions {
		if ns.Status.Conditions[i].Type == t {
			if ns.Status.Conditions[i].Message == msg {
				return
			}
			ns.Status.Conditions[i] = cond
			_, _ = c.client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1Update)
			return
		}
	}
	ns.Status.Conditions = append(ns.Status.Conditions, cond)
	_, _ = c.client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1Update)
}
