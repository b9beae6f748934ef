package framework

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

// PodInfo is a pod with what the scheduler computes from it once: its requests and
// its parsed affinity terms.
type PodInfo struct {
	Pod *corev1.Pod
	// Requests is what the pod takes from a node's allocatable.
	Requests Resource
	// NonZeroCPU and NonZeroMem count unset container requests at the defaults.
	NonZeroCPU, NonZeroMem int64

	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	// ParseError is set when an affinity term's selector cannot be parsed; the pod
	// cannot be scheduled until it is fixed.
	ParseError error
}

// AffinityTerm is a pod (anti-)affinity term with its selectors parsed.
type AffinityTerm struct {
	Namespaces        sets.Set[string]
	Selector          labels.Selector
	TopologyKey       string
	NamespaceSelector labels.Selector
}

// WeightedAffinityTerm is a preferred term.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// NewPodInfo computes a pod's scheduling view.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	pi := &PodInfo{}
	pi.Update(pod)
	return pi
}

// Update recomputes the view for a new version of the pod.
func (pi *PodInfo) Update(pod *corev1.Pod) {
	pi.Pod = pod
	pi.Requests, pi.NonZeroCPU, pi.NonZeroMem = podRequests(pod)
	pi.RequiredAffinityTerms, pi.RequiredAntiAffinityTerms = nil, nil
	pi.PreferredAffinityTerms, pi.PreferredAntiAffinityTerms = nil, nil
	pi.ParseError = nil
	aff := pod.Spec.Affinity
	if aff == nil {
		return
	}
	var errs []error
	if a := aff.PodAffinity; a != nil {
		pi.RequiredAffinityTerms, errs = appendTerms(pi.RequiredAffinityTerms, errs, pod, a.RequiredDuringSchedulingIgnoredDuringExecution)
		pi.PreferredAffinityTerms, errs = appendWeighted(pi.PreferredAffinityTerms, errs, pod, a.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if a := aff.PodAntiAffinity; a != nil {
		pi.RequiredAntiAffinityTerms, errs = appendTerms(pi.RequiredAntiAffinityTerms, errs, pod, a.RequiredDuringSchedulingIgnoredDuringExecution)
		pi.PreferredAntiAffinityTerms, errs = appendWeighted(pi.PreferredAntiAffinityTerms, errs, pod, a.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if len(errs) > 0 {
		pi.ParseError = errs[0]
	}
}

// WithPod is a copy of the view for another version of the same pod whose spec is
// unchanged (the assumed copy with its node set).
func (pi *PodInfo) WithPod(pod *corev1.Pod) *PodInfo {
	c := *pi
	c.Pod = pod
	return &c
}

// HasAffinity is true when the pod has any pod affinity or anti-affinity term.
func (pi *PodInfo) HasAffinity() bool {
	return len(pi.RequiredAffinityTerms)+len(pi.RequiredAntiAffinityTerms)+len(pi.PreferredAffinityTerms)+len(pi.PreferredAntiAffinityTerms) > 0
}

// HasRequiredAntiAffinity is true when the pod has required anti-affinity terms.
func (pi *PodInfo) HasRequiredAntiAffinity() bool { return len(pi.RequiredAntiAffinityTerms) > 0 }

// NewAffinityTerm parses a pod affinity term as seen from pod: no namespaces and no
// namespace selector means the pod's own namespace.
func NewAffinityTerm(pod *corev1.Pod, term *corev1.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("parse label selector of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	ns := sets.New(term.Namespaces...)
	var nsSel labels.Selector = labels.Nothing()
	if term.NamespaceSelector != nil {
		if nsSel, err = metav1.LabelSelectorAsSelector(term.NamespaceSelector); err != nil {
			return AffinityTerm{}, fmt.Errorf("parse namespace selector of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	if len(term.Namespaces) == 0 && term.NamespaceSelector == nil {
		ns.Insert(pod.Namespace)
	}
	return AffinityTerm{Namespaces: ns, Selector: sel, TopologyKey: term.TopologyKey, NamespaceSelector: nsSel}, nil
}

// Matches says whether a pod in a namespace with these labels is selected by the
// term. nsLabels are the labels of pod's namespace (needed only with a namespace
// selector).
func (t *AffinityTerm) Matches(pod *corev1.Pod, nsLabels labels.Set) bool {
	if t.Namespaces.Has(pod.Namespace) || t.NamespaceSelector.Matches(nsLabels) {
		return t.Selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

func appendTerms(out []AffinityTerm, errs []error, pod *corev1.Pod, terms []corev1.PodAffinityTerm) ([]AffinityTerm, []error) {
	for i := range terms {
		t, err := NewAffinityTerm(pod, &terms[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	return out, errs
}

func appendWeighted(out []WeightedAffinityTerm, errs []error, pod *corev1.Pod, terms []corev1.WeightedPodAffinityTerm) ([]WeightedAffinityTerm, []error) {
	for i := range terms {
		t, err := NewAffinityTerm(pod, &terms[i].PodAffinityTerm)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: terms[i].Weight})
	}
	return out, errs
}

// SameRequests says, cheaply, whether two versions of a pod ask for the same
// resources: the same container requests, overhead, pod-level resources and
// resized amounts. When true, a new version can reuse the old view's sums.
func SameRequests(a, b *corev1.Pod) bool {
	if len(a.Spec.Containers) != len(b.Spec.Containers) || len(a.Spec.InitContainers) != len(b.Spec.InitContainers) ||
		len(a.Status.ContainerStatuses) != len(b.Status.ContainerStatuses) {
		return false
	}
	for i := range a.Spec.Containers {
		if !equality.Semantic.DeepEqual(a.Spec.Containers[i].Resources.Requests, b.Spec.Containers[i].Resources.Requests) {
			return false
		}
	}
	for i := range a.Spec.InitContainers {
		if !equality.Semantic.DeepEqual(a.Spec.InitContainers[i].Resources.Requests, b.Spec.InitContainers[i].Resources.Requests) {
			return false
		}
	}
	for i := range a.Status.ContainerStatuses {
		as, bs := &a.Status.ContainerStatuses[i], &b.Status.ContainerStatuses[i]
		if !equality.Semantic.DeepEqual(as.AllocatedResources, bs.AllocatedResources) || !equality.Semantic.DeepEqual(as.Resources, bs.Resources) {
			return false
		}
	}
	return equality.Semantic.DeepEqual(a.Spec.Overhead, b.Spec.Overhead) && equality.Semantic.DeepEqual(a.Spec.Resources, b.Spec.Resources) &&
		equality.Semantic.DeepEqual(a.Spec.Affinity, b.Spec.Affinity)
}
