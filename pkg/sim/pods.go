package sim

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const byNodeIndex = "spec.nodeName"

// podController plays the kubelet of every simulated node for the pods bound to
// them. It lives while simulated nodes exist (see Controller.runPods).
type podController struct {
	c        *Controller
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   corelisters.PodLister
	queue    workqueue.TypedRateLimitingInterface[string]
}

func newPodController(c *Controller) *podController {
	// Bound pods only; those of real nodes are dropped by the handlers.
	factory := informers.NewSharedInformerFactoryWithOptions(c.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermNotEqualSelector("spec.nodeName", "").String()
		}),
		informers.WithTransform(trimPod))
	inf := factory.Core().V1().Pods()
	p := &podController{c: c, factory: factory, informer: inf.Informer(), lister: inf.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](20*time.Millisecond, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "sim-pods"}),
	}
	_ = p.informer.AddIndexers(cache.Indexers{byNodeIndex: func(obj interface{}) ([]string, error) {
		return []string{obj.(*corev1.Pod).Spec.NodeName}, nil
	}})
	_, _ = p.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) { p.enqueue(obj.(*corev1.Pod)) },
		UpdateFunc: func(oldObj, newObj interface{}) {
			if oldObj.(*corev1.Pod).ResourceVersion != newObj.(*corev1.Pod).ResourceVersion {
				p.enqueue(newObj.(*corev1.Pod))
			}
		},
		DeleteFunc: func(obj interface{}) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				c.releaseIP(pod)
			}
		},
	})
	return p
}

func (p *podController) enqueue(pod *corev1.Pod) {
	if _, err := p.c.nodes.Get(pod.Spec.NodeName); err == nil {
		p.queue.Add(pod.Namespace + "/" + pod.Name)
	}
}

// enqueueNode queues the pods bound to a node (one that came or recovered).
func (p *podController) enqueueNode(node string) {
	objs, _ := p.informer.GetIndexer().ByIndex(byNodeIndex, node)
	for _, obj := range objs {
		pod := obj.(*corev1.Pod)
		p.queue.Add(pod.Namespace + "/" + pod.Name)
	}
}

func (p *podController) run(ctx context.Context) error {
	p.factory.Start(ctx.Done())
	defer p.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), p.informer.HasSynced) {
		p.queue.ShutDown()
		return ctx.Err()
	}
	p.claimAddresses()
	return worker.Run(ctx, worker.Config[string]{Name: "sim-pods", Queue: p.queue, Workers: p.c.cfg.PodWorkers, Sync: p.sync, Log: p.c.log})
}

// claimAddresses records the addresses running pods already have, before any
// new pod is given one.
func (p *podController) claimAddresses() {
	for _, obj := range p.informer.GetStore().List() {
		pod := obj.(*corev1.Pod)
		if pod.Status.PodIP == "" || pod.Spec.HostNetwork || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		node, err := p.c.nodes.Get(pod.Spec.NodeName)
		if err != nil {
			continue
		}
		if a, err := p.c.podIPsOf(node); err == nil {
			a.Claim(pod.UID, pod.Status.PodIP)
		}
	}
}

func (p *podController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := p.lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	node, err := p.c.nodes.Get(pod.Spec.NodeName)
	if err != nil || failed(node) {
		return nil // not simulated, gone, or failed: nobody runs this pod
	}
	now := time.Now()
	plan := planPod(pod, now)
	switch plan.action {
	case podRemove:
		p.c.releaseIP(pod)
		err := p.c.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete: %w", err)
		}
	case podRun:
		podIP, hostIP, err := p.addresses(pod, node)
		if err != nil {
			return err
		}
		return p.writeStatus(ctx, pod, runningStatus(pod, podIP, hostIP, now))
	case podComplete:
		p.c.releaseIP(pod)
		return p.writeStatus(ctx, pod, completedStatus(pod, now))
	}
	if plan.requeueAfter > 0 {
		p.queue.AddAfter(key, plan.requeueAfter)
	}
	return nil
}

// addresses gives the pod its address: the node's for host-network pods, else
// the one it has or the next free one of the node's range.
func (p *podController) addresses(pod *corev1.Pod, node *corev1.Node) (podIP, hostIP string, err error) {
	hostIP = internalIP(node)
	if hostIP == "" {
		return "", "", fmt.Errorf("node %s has no InternalIP", node.Name)
	}
	if pod.Spec.HostNetwork {
		return hostIP, hostIP, nil
	}
	a, err := p.c.podIPsOf(node)
	if err != nil {
		return "", "", err
	}
	if pod.Status.PodIP != "" && a.Claim(pod.UID, pod.Status.PodIP) {
		return pod.Status.PodIP, hostIP, nil
	}
	ip, err := a.Assign(pod.UID)
	if err != nil {
		return "", "", err
	}
	return ip.String(), hostIP, nil
}

// writeStatus replaces the pod's status. A conflict is not an error: the newer pod
// is on its way through the informer and brings the key back.
func (p *podController) writeStatus(ctx context.Context, pod *corev1.Pod, st corev1.PodStatus) error {
	// A shallow copy: the cached spec and metadata are only read while encoding.
	next := *pod
	next.Status = st
	var err error
	if rc, ok := p.c.client.CoreV1().RESTClient().(*rest.RESTClient); ok && rc != nil {
		// The pod written comes back through the informer: the reply is not
		// decoded, which saves a fifth of the controller's CPU in a burst.
		err = rc.Put().Namespace(pod.Namespace).Resource("pods").Name(pod.Name).SubResource("status").
			Body(&next).Do(ctx).Error()
	} else { // a fake clientset
		_, err = p.c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, &next, metav1.UpdateOptions{})
	}
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

// trimPod keeps of a cached pod what a simulated kubelet reads: metadata, status
// and the few fields of the spec that shape the status. Half the memory of a
// burst of pods goes otherwise to volumes, environments and probes. Writing the
// status back with this spec is safe: a status update takes the spec of the
// stored pod, here as upstream.
func trimPod(obj interface{}) (interface{}, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return dropManagedFields(obj)
	}
	pod.ManagedFields = nil
	s := &pod.Spec
	*s = corev1.PodSpec{NodeName: s.NodeName, HostNetwork: s.HostNetwork, RestartPolicy: s.RestartPolicy,
		ReadinessGates: s.ReadinessGates, InitContainers: trimContainers(s.InitContainers), Containers: trimContainers(s.Containers)}
	return pod, nil
}

func trimContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, RestartPolicy: c.RestartPolicy}
	}
	return out
}
