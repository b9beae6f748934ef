// Package serviceaccount makes sure every active namespace has the "default"
// ServiceAccount, as upstream's service account controller does.
package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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

const (
	// Name is the controller's name, as upstream's.
	Name = "serviceaccount-controller"
	// DefaultName is the service account every namespace gets.
	DefaultName = "default"
)

// Config wires the controller.
type Config struct {
	Client          kubernetes.Interface
	Namespaces      coreinformers.NamespaceInformer
	ServiceAccounts coreinformers.ServiceAccountInformer
	Workers         int
	Log             *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Namespaces == nil || c.ServiceAccounts == nil:
		return errors.New("serviceaccount controller: a client and namespace and service account informers are required")
	case c.Workers < 1:
		return fmt.Errorf("serviceaccount controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller keeps the default service accounts.
type Controller struct {
	cfg      Config
	nsLister corelisters.NamespaceLister
	saLister corelisters.ServiceAccountLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
}

// New watches namespaces and service accounts.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, nsLister: cfg.Namespaces.Lister(), saLister: cfg.ServiceAccounts.Lister(),
		synced: []cache.InformerSynced{cfg.Namespaces.Informer().HasSynced, cfg.ServiceAccounts.Informer().HasSynced},
		queue:  worker.NewQueue("serviceaccount")}
	if _, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNamespace,
		UpdateFunc: func(_, obj interface{}) { c.enqueueNamespace(obj) },
	}); err != nil {
		return nil, err
	}
	if _, err := cfg.ServiceAccounts.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj interface{}) {
			if s, ok := worker.Object[*corev1.ServiceAccount](obj); ok && s.Name == DefaultName {
				c.queue.Add(s.Namespace)
			}
		},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) enqueueNamespace(obj interface{}) {
	if ns, ok := obj.(*corev1.Namespace); ok && needsAccount(ns) {
		c.queue.Add(ns.Name)
	}
}

// needsAccount: only active namespaces get service accounts.
func needsAccount(ns *corev1.Namespace) bool {
	return ns.Status.Phase == corev1.NamespaceActive && ns.DeletionTimestamp == nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.cfg.Log})
}

// sync creates the namespace's default service account if it is missing.
func (c *Controller) sync(ctx context.Context, namespace string) error {
	ns, err := c.nsLister.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !needsAccount(ns) {
		return nil
	}
	if _, err := c.saLister.ServiceAccounts(namespace).Get(DefaultName); err == nil {
		return nil
	}
	_, err = c.cfg.Client.CoreV1().ServiceAccounts(namespace).Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultName}}, metav1.CreateOptions{})
	// Already there (the cache lagged), or the namespace is gone or going: nothing to do.
	if apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create service account %s/%s: %w", namespace, DefaultName, err)
	}
	return nil
}
