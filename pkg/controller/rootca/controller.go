// Package rootca publishes the cluster CA as the kube-root-ca.crt ConfigMap in every
// namespace, as upstream's root CA certificate publisher does, so pods can verify
// the API server.
package rootca

import (
	"context"
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

// ConfigMapName is the published ConfigMap.
const ConfigMapName = "kube-root-ca.crt"

// Controller keeps kube-root-ca.crt in every namespace.
type Controller struct {
	client   kubernetes.Interface
	caPEM    string
	nsLister corelisters.NamespaceLister
	cmLister corelisters.ConfigMapLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	log      *slog.Logger
}

// New watches namespaces and the ConfigMaps named kube-root-ca.crt.
func New(client kubernetes.Interface, caPEM []byte, ns coreinformers.NamespaceInformer, cm coreinformers.ConfigMapInformer, log *slog.Logger) *Controller {
	c := &Controller{client: client, caPEM: string(caPEM), nsLister: ns.Lister(), cmLister: cm.Lister(), log: log,
		synced: []cache.InformerSynced{ns.Informer().HasSynced, cm.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "root-ca-cert-publisher"})}
	_, _ = ns.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.queue.Add(obj.(*corev1.Namespace).Name) },
		UpdateFunc: func(_, obj interface{}) { c.queue.Add(obj.(*corev1.Namespace).Name) },
	})
	onCM := func(obj interface{}) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if m, ok := obj.(*corev1.ConfigMap); ok && m.Name == ConfigMapName {
			c.queue.Add(m.Namespace)
		}
	}
	_, _ = cm.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj interface{}) { onCM(obj) },
		DeleteFunc: onCM,
	})
	return c
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, "root CA publisher", c.queue, c.synced, c.sync, nil)
}

func (c *Controller) sync(ctx context.Context, namespace string) error {
	ns, err := c.nsLister.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || ns.Status.Phase != corev1.NamespaceActive {
		return err
	}
	want := map[string]string{"ca.crt": c.caPEM}
	annotations := map[string]string{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}
	cm, err := c.cmLister.ConfigMaps(namespace).Get(ConfigMapName)
	if apierrors.IsNotFound(err) {
		_, err = c.client.CoreV1().ConfigMaps(namespace).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Annotations: annotations}, Data: want}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if cm.Data["ca.crt"] == c.caPEM && len(cm.Data) == 1 {
		return nil
	}
	cm = cm.DeepCopy()
	cm.Data = want
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	for k, v := range annotations {
		cm.Annotations[k] = v
	}
	_, err = c.client.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{})
	return err
}
