package podtopologyspread

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
)

var (
	rcKind = corev1.SchemeGroupVersion.WithKind("ReplicationController")
	rsKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
	ssKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")
)

// workloadListers find what a pod belongs to, for the default constraints.
type workloadListers struct {
	services     corelisters.ServiceLister
	rcs          corelisters.ReplicationControllerLister
	replicaSets  appslisters.ReplicaSetLister
	statefulSets appslisters.StatefulSetLister
}

// defaultSelector selects the pod's siblings: the selectors of the Services that
// select it, ANDed with that of its controlling ReplicationController,
// ReplicaSet or StatefulSet. Empty when the pod belongs to none.
func (l *workloadListers) defaultSelector(pod *corev1.Pod) labels.Selector {
	set := labels.Set{}
	if svcs, err := l.services.Services(pod.Namespace).List(labels.Everything()); err == nil {
		podLabels := labels.Set(pod.Labels)
		for _, svc := range svcs {
			if svc.Spec.Selector == nil {
				continue
			}
			if labels.Set(svc.Spec.Selector).AsSelectorPreValidated().Matches(podLabels) {
				set = labels.Merge(set, svc.Spec.Selector)
			}
		}
	}
	sel := set.AsSelector()
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		return sel
	}
	gv, err := schema.ParseGroupVersion(owner.APIVersion)
	if err != nil {
		return sel
	}
	switch gv.WithKind(owner.Kind) {
	case rcKind:
		if rc, err := l.rcs.ReplicationControllers(pod.Namespace).Get(owner.Name); err == nil {
			sel = labels.Merge(set, rc.Spec.Selector).AsSelector()
		}
	case rsKind:
		if rs, err := l.replicaSets.ReplicaSets(pod.Namespace).Get(owner.Name); err == nil {
			sel = addSelector(sel, rs.Spec.Selector)
		}
	case ssKind:
		if ss, err := l.statefulSets.StatefulSets(pod.Namespace).Get(owner.Name); err == nil {
			sel = addSelector(sel, ss.Spec.Selector)
		}
	}
	return sel
}

func addSelector(sel labels.Selector, ls *metav1.LabelSelector) labels.Selector {
	other, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return sel
	}
	if reqs, ok := other.Requirements(); ok {
		sel = sel.Add(reqs...)
	}
	return sel
}
