package scheduler

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/cache"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// addEventHandlers routes informer events: unscheduled pods of our profiles to the
// queue, bound pods and nodes to the cache, and every change that may let a parked
// pod fit to the queue as a cluster event.
func (s *Scheduler) addEventHandlers() error {
	ctx := context.Background()
	pods := s.informers.InformerFor(&corev1.Pod{}, newPodInformer)
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { s.onPodAdd(ctx, obj) },
		UpdateFunc: func(o, n interface{}) { s.onPodUpdate(ctx, o, n) },
		DeleteFunc: func(obj interface{}) { s.onPodDelete(ctx, obj) },
	}); err != nil {
		return err
	}
	nodes := s.informers.Core().V1().Nodes().Informer()
	if _, err := nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { s.onNodeAdd(ctx, obj) },
		UpdateFunc: func(o, n interface{}) { s.onNodeUpdate(ctx, o, n) },
		DeleteFunc: func(obj interface{}) { s.onNodeDelete(ctx, obj) },
	}); err != nil {
		return err
	}
	return s.addStorageHandlers(ctx)
}

// newPodInformer watches every pod that has not finished: a finished pod frees its
// node and is no longer the scheduler's business.
func newPodInformer(cs kubernetesInterface, resync resyncPeriod) cache.SharedIndexInformer {
	sel := fields.ParseSelectorOrDie("status.phase!=" + string(corev1.PodSucceeded) + ",status.phase!=" + string(corev1.PodFailed))
	return newFilteredPodInformer(cs, resync, sel.String())
}

func (s *Scheduler) responsible(pod *corev1.Pod) bool {
	_, ok := s.profiles[pod.Spec.SchedulerName]
	return ok
}

func assigned(pod *corev1.Pod) bool { return pod.Spec.NodeName != "" }

func (s *Scheduler) onPodAdd(ctx context.Context, obj interface{}) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if assigned(pod) {
		s.cache.AddPod(pod)
		s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Add, Label: "AssignedPodAdd"}, nil, pod)
		return
	}
	if s.responsible(pod) && pod.DeletionTimestamp == nil {
		s.queue.Add(ctx, pod)
	}
}

func (s *Scheduler) onPodUpdate(ctx context.Context, oldObj, newObj interface{}) {
	oldPod, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || oldPod.ResourceVersion == pod.ResourceVersion {
		return
	}
	switch {
	case assigned(pod):
		if !assigned(oldPod) {
			// Bound (by us or someone else): out of the queue, into the cache.
			s.queue.Delete(oldPod)
			s.cache.AddPod(pod)
			s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Add, Label: "AssignedPodAdd"}, nil, pod)
			return
		}
		s.cache.UpdatePod(oldPod, pod)
		if act := podUpdateAction(oldPod, pod); act != fw.None {
			s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: act, Label: "AssignedPodUpdate"}, oldPod, pod)
		}
	case s.responsible(pod):
		if pod.DeletionTimestamp != nil {
			s.queue.Delete(pod)
			return
		}
		s.queue.Update(ctx, oldPod, pod)
	}
}

func (s *Scheduler) onPodDelete(ctx context.Context, obj interface{}) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, isTomb := obj.(cache.DeletedFinalStateUnknown)
		if !isTomb {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	if assigned(pod) {
		s.cache.RemovePod(pod)
		s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Delete, Label: "AssignedPodDelete"}, pod, nil)
		return
	}
	s.queue.Delete(pod)
	if s.cache.IsAssumedPod(pod) {
		// Deleted while its binding was in flight.
		s.cache.ForgetPod(pod)
	}
}

// podUpdateAction says what changed in an assigned pod, as far as pods waiting for
// room or for affinity care.
func podUpdateAction(o, n *corev1.Pod) fw.ActionType {
	var act fw.ActionType
	if !equality.Semantic.DeepEqual(o.Labels, n.Labels) {
		act |= fw.UpdatePodLabel
	}
	if !equality.Semantic.DeepEqual(o.Spec.Tolerations, n.Spec.Tolerations) {
		act |= fw.UpdatePodToleration
	}
	if scaledDown(o, n) {
		act |= fw.UpdatePodScaleDown
	}
	return act
}

// scaledDown says whether a pod's requests went down (an in-place resize).
func scaledDown(o, n *corev1.Pod) bool {
	if fw.SameRequests(o, n) {
		return false
	}
	oi, ni := fw.NewPodInfo(o), fw.NewPodInfo(n)
	return ni.Requests.MilliCPU < oi.Requests.MilliCPU || ni.Requests.Memory < oi.Requests.Memory ||
		ni.Requests.EphemeralStorage < oi.Requests.EphemeralStorage
}

func (s *Scheduler) onNodeAdd(ctx context.Context, obj interface{}) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	s.cache.AddNode(node)
	s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add, Label: "NodeAdd"}, nil, node)
}

func (s *Scheduler) onNodeUpdate(ctx context.Context, oldObj, newObj interface{}) {
	o, ok1 := oldObj.(*corev1.Node)
	n, ok2 := newObj.(*corev1.Node)
	if !ok1 || !ok2 || o.ResourceVersion == n.ResourceVersion {
		return
	}
	s.cache.UpdateNode(o, n)
	if act := nodeUpdateAction(o, n); act != fw.None {
		s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.Node, ActionType: act, Label: "NodeUpdate"}, o, n)
	}
}

func (s *Scheduler) onNodeDelete(ctx context.Context, obj interface{}) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		tomb, isTomb := obj.(cache.DeletedFinalStateUnknown)
		if !isTomb {
			return
		}
		if node, ok = tomb.Obj.(*corev1.Node); !ok {
			return
		}
	}
	s.cache.RemoveNode(node)
}

// nodeUpdateAction classifies a node change; heartbeats alone are no change.
func nodeUpdateAction(o, n *corev1.Node) fw.ActionType {
	var act fw.ActionType
	if !equality.Semantic.DeepEqual(o.Status.Allocatable, n.Status.Allocatable) {
		act |= fw.UpdateNodeAllocatable
	}
	if !equality.Semantic.DeepEqual(o.Labels, n.Labels) {
		act |= fw.UpdateNodeLabel
	}
	if !equality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) || o.Spec.Unschedulable != n.Spec.Unschedulable {
		act |= fw.UpdateNodeTaint
	}
	if !sameConditions(o.Status.Conditions, n.Status.Conditions) {
		act |= fw.UpdateNodeCondition
	}
	if !equality.Semantic.DeepEqual(o.Annotations, n.Annotations) {
		act |= fw.UpdateNodeAnnotation
	}
	return act
}

// sameConditions compares condition types and statuses, not heartbeat times.
func sameConditions(a, b []corev1.NodeCondition) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[corev1.NodeConditionType]corev1.ConditionStatus, len(a))
	for _, c := range a {
		m[c.Type] = c.Status
	}
	for _, c := range b {
		if st, ok := m[c.Type]; !ok || st != c.Status {
			return false
		}
	}
	return true
}
