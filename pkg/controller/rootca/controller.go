// Package rootca publishes the cluster CA as the kube-root-ca.crt ConfigMap in every
// namespace, as upstream's root CA certificate publisher does, so pods can verify
// the API server.
package rootca

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "root-ca-certificate-publisher-controller"
	// ConfigMapName is the published ConfigMap.
	ConfigMapName = "kube-root-ca.crt"

	descriptionAnnotation = "kubernetes.io/description"
	description           = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."
)

// Config wires the controller.
type Config struct {
	Client     kubernetes.Interface
	CAPEM      []byte
	Namespaces coreinformers.NamespaceInformer
	// ConfigMaps must hold at least every kube-root-ca.crt; NewConfigMapInformer
	// makes one that holds nothing else.
	ConfigMaps cache.SharedIndexInformer
	Workers    int
	Log        *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Namespaces == nil || c.ConfigMaps == nil:
		return errors.New("root CA publisher: a client and namespace and config map informers are required")
	case len(c.CAPEM) == 0:
		return errors.New("root CA publisher: the CA certificate is required")
	case c.Workers < 1:
		return fmt.Errorf("root CA publisher: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// NewConfigMapInformer watches only the ConfigMaps named kube-root-ca.crt: caching
// every ConfigMap of the cluster for this controller would cost their size in memory.
// The caller runs it.
func NewConfigMapInformer(client kubernetes.Interface, resync time.Duration, transform cache.TransformFunc) cache.SharedIndexInformer {
	inf := coreinformers.NewFilteredConfigMapInformer(client, metav1.NamespaceAll, resync,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}, func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ConfigMapName).String()
		})
	if transform != nil {
		_ = inf.SetTransform(transform)
	}
	return inf
}

// Controller keeps kube-root-ca.crt in every namespace.
type Controller struct {
	cfg      Config
	nsLister corelisters.NamespaceLister
	cmLister corelisters.ConfigMapLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
}

// New watches namespaces and the published ConfigMaps.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, nsLister: cfg.Namespaces.Lister(), cmLister: corelisters.NewConfigMapLister(cfg.ConfigMaps.GetIndexer()),
		synced: []cache.InformerSynced{cfg.Namespaces.Informer().HasSynced, cfg.ConfigMaps.HasSynced},
		queue:  worker.NewQueue("root_ca_cert_publisher")}
	if _, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNamespace,
		UpdateFunc: func(_, obj interface{}) { c.enqueueNamespace(obj) },
	}); err != nil {
		return nil, err
	}
	onConfigMap := func(obj interface{}) {
		if m, ok := worker.Object[*corev1.ConfigMap](obj); ok && m.Name == ConfigMapName {
			c.queue.Add(m.Namespace)
		}
	}
	if _, err := cfg.ConfigMaps.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj interface{}) { onConfigMap(obj) },
		DeleteFunc: onConfigMap,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) enqueueNamespace(obj interface{}) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.queue.Add(ns.Name)
	}
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.cfg.Log})
}

func (c *Controller) sync(ctx context.Context, namespace string) error {
	ns, err := c.nsLister.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.Status.Phase != corev1.NamespaceActive || ns.DeletionTimestamp != nil {
		return nil
	}
	cm, err := c.cmLister.ConfigMaps(namespace).Get(ConfigMapName)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	want, change := reconcile(cm, c.cfg.CAPEM)
	switch change {
	case create:
		_, err = c.cfg.Client.CoreV1().ConfigMaps(namespace).Create(ctx, want, metav1.CreateOptions{})
		// A namespace that is gone or going needs no ConfigMap.
		if apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
	case update:
		_, err = c.cfg.Client.CoreV1().ConfigMaps(namespace).Update(ctx, want, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("publish %s in %s: %w", ConfigMapName, namespace, err)
	}
	return nil
}

type change int

const (
	none change = iota
	create
	update
)

// reconcile returns the ConfigMap a namespace should hold given the one it has
// (nil if none), and what to do about it: the data must be exactly the CA, and
// the description annotation present (a user's own description is kept).
func reconcile(have *corev1.ConfigMap, caPEM []byte) (*corev1.ConfigMap, change) {
	data := map[string]string{"ca.crt": string(caPEM)}
	if have == nil {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName,
			Annotations: map[string]string{descriptionAnnotation: description}}, Data: data}, create
	}
	if maps.Equal(have.Data, data) && have.Annotations[descriptionAnnotation] != "" {
		return have, none
	}
	want := have.DeepCopy()
	want.Data = data
	if want.Annotations == nil {
		want.Annotations = map[string]string{}
	}
	if want.Annotations[descriptionAnnotation] == "" {
		want.Annotations[descriptionAnnotation] = description
	}
	return want, update
}
