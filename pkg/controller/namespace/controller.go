// Package namespace finishes namespace deletion, as upstream's namespace
// controller does: when a namespace is marked for deletion it deletes everything
// in it (pods first), reports progress in the namespace's deletion conditions,
// and once nothing is left removes the "kubernetes" finalizer so the API server
// can remove the namespace itself.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
const Name = "namespace-controller"

// Config wires the controller.
type Config struct {
	Client     kubernetes.Interface
	Namespaces coreinformers.NamespaceInformer
	Deleter    *ContentDeleter
	Workers    int
	Log        *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Namespaces == nil:
		return errors.New("namespace controller: a client and a namespace informer are required")
	case c.Deleter == nil || c.Deleter.Resources == nil || c.Deleter.Metadata == nil || c.Deleter.Now == nil:
		return errors.New("namespace controller: a content deleter with discovery, a metadata client and a clock is required")
	case c.Workers < 1:
		return fmt.Errorf("namespace controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller deletes the contents of terminating namespaces.
type Controller struct {
	cfg    Config
	lister corelisters.NamespaceLister
	synced cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
}

// New wires the controller to its informer.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, lister: cfg.Namespaces.Lister(), synced: cfg.Namespaces.Informer().HasSynced,
		// Upstream's namespace queue backs off from 5ms to 60s, not 1000s.
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, 60*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "namespace"})}
	_, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
	})
	return c, err
}

func (c *Controller) enqueue(obj interface{}) {
	if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
		c.queue.Add(ns.Name)
	}
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: []cache.InformerSynced{c.synced},
		Workers: c.cfg.Workers, Sync: c.sync, Log: c.cfg.Log})
}

// sync deletes what is left in a terminating namespace. While content remains
// (waiting on grace periods or finalizers) it asks to be called again after half
// the estimate, as upstream does.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp == nil {
		return nil
	}
	ns = ns.DeepCopy()
	if ns.Status.Phase != corev1.NamespaceTerminating {
		ns.Status.Phase = corev1.NamespaceTerminating
		if ns, err = c.cfg.Client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(fmt.Errorf("mark namespace %s terminating: %w", name, err))
		}
	}
	if !hasFinalizer(ns) {
		return nil
	}
	p := c.cfg.Deleter.deleteAll(ctx, ns)
	if mergeConditions(&ns.Status, p.problems(), metav1.NewTime(c.cfg.Deleter.Now())) {
		updated, err := c.cfg.Client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1.UpdateOptions{})
		if err != nil {
			return ignoreNotFound(fmt.Errorf("update deletion conditions of namespace %s: %w", name, err))
		}
		ns = updated
	}
	if err := p.err(); err != nil {
		return err
	}
	if p.estimate > 0 {
		return worker.RequeueAfter(time.Duration(p.estimate/2+1) * time.Second)
	}
	if len(p.remaining) > 0 {
		return fmt.Errorf("namespace %s still holds content", name)
	}
	return ignoreNotFound(c.finalize(ctx, ns))
}

// err is the pass's failure, if any: the caller retries with back-off.
func (p *pass) err() error {
	errs := append([]error{p.discoveryErr, p.parseErr}, p.deleteErrs...)
	return errors.Join(errs...)
}

func hasFinalizer(ns *corev1.Namespace) bool {
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			return true
		}
	}
	return false
}

// withoutFinalizer is ns's spec.finalizers minus "kubernetes".
func withoutFinalizer(ns *corev1.Namespace) []corev1.FinalizerName {
	var keep []corev1.FinalizerName
	for _, f := range ns.Spec.Finalizers {
		if f != corev1.FinalizerKubernetes {
			keep = append(keep, f)
		}
	}
	return keep
}

// finalize removes the "kubernetes" finalizer through namespaces/finalize.
func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	ns.Spec.Finalizers = withoutFinalizer(ns)
	if _, err := c.cfg.Client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("finalize namespace %s: %w", ns.Name, err)
	}
	return nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
