// Package limitranger is upstream's LimitRanger admission plugin: a new pod's
// containers get the default requests and limits of their namespace's
// LimitRanges (mutating), and pods and claims outside a range's min, max and
// limit/request ratio are refused (validating).
package limitranger

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "LimitRanger"

// Annotation records on a pod which defaults the plugin set.
const Annotation = "kubernetes.io/limit-ranger"

var (
	podsGR        = schema.GroupResource{Resource: "pods"}
	claimsGR      = schema.GroupResource{Resource: "persistentvolumeclaims"}
	limitRangeGVR = schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}
)

// Plugin is the LimitRanger plugin.
type Plugin struct {
	admission.Handler
	objects admission.Objects
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin reading LimitRanges from objects.
func New(objects admission.Objects) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update), objects: objects}
}

// HandlesResource: pods and their resize subresource, and claims.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	switch {
	case t.Resource == podsGR:
		return t.Subresource == "" || t.Subresource == "resize"
	case t.Resource == claimsGR:
		return t.Subresource == ""
	}
	return false
}

// applies is upstream's rule: a pod's containers cannot change on a plain
// update, so only its creation and resizes are checked; objects being
// deleted are let through.
func applies(a *admission.Attributes) bool {
	if a.GroupResource() == podsGR && a.Operation == admission.Update && a.Subresource != "resize" {
		return false
	}
	if a.OldObject != nil {
		if m, err := meta.Accessor(a.OldObject); err == nil && m.GetDeletionTimestamp() != nil {
			return false
		}
	}
	return true
}

// Admit sets the default requests and limits of a new pod's containers.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok || !applies(a) || a.Subresource != "" {
		return nil
	}
	ranges, err := p.ranges(ctx, a)
	if err != nil {
		return err
	}
	for _, lr := range ranges {
		SetDefaults(lr, pod)
	}
	return nil
}

// Validate refuses what is outside a range.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	if !applies(a) {
		return nil
	}
	ranges, err := p.ranges(ctx, a)
	if err != nil {
		return err
	}
	for _, lr := range ranges {
		var err error
		switch obj := a.Object.(type) {
		case *corev1.Pod:
			err = CheckPod(lr, obj)
		case *corev1.PersistentVolumeClaim:
			err = CheckClaim(lr, obj)
		}
		if err != nil {
			return a.Forbidden(err)
		}
	}
	return nil
}

func (p *Plugin) ranges(ctx context.Context, a *admission.Attributes) ([]*corev1.LimitRange, error) {
	objs, err := p.objects.List(ctx, limitRangeGVR, a.Namespace)
	if err != nil {
		return nil, a.Forbidden(fmt.Errorf("unable to %s %v at this time because there was an error enforcing limit ranges", a.Operation, a.Resource))
	}
	out := make([]*corev1.LimitRange, 0, len(objs))
	for _, o := range objs {
		if lr, ok := o.(*corev1.LimitRange); ok {
			out = append(out, lr)
		}
	}
	return out, nil
}

// SetDefaults gives every container the range's default requests and limits
// for the resources it does not name, and records them in the pod's
// kubernetes.io/limit-ranger annotation.
func SetDefaults(lr *corev1.LimitRange, pod *corev1.Pod) {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		for k, v := range item.DefaultRequest {
			requests[k] = v.DeepCopy()
		}
		for k, v := range item.Default {
			limits[k] = v.DeepCopy()
		}
	}
	var notes []string
	for i := range pod.Spec.Containers {
		notes = fill(&pod.Spec.Containers[i], requests, limits, "container", notes)
	}
	for i := range pod.Spec.InitContainers {
		notes = fill(&pod.Spec.InitContainers[i], requests, limits, "init container", notes)
	}
	if len(notes) == 0 {
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[Annotation] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
}

func fill(c *corev1.Container, requests, limits corev1.ResourceList, what string, notes []string) []string {
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	var setLimits, setRequests []string
	for k, v := range limits {
		if _, ok := c.Resources.Limits[k]; !ok {
			c.Resources.Limits[k] = v.DeepCopy()
			setLimits = append(setLimits, string(k))
		}
	}
	for k, v := range requests {
		if _, ok := c.Resources.Requests[k]; !ok {
			c.Resources.Requests[k] = v.DeepCopy()
			setRequests = append(setRequests, string(k))
		}
	}
	if len(setRequests) > 0 {
		sort.Strings(setRequests)
		notes = append(notes, fmt.Sprintf("%s request for %s %s", strings.Join(setRequests, ", "), what, c.Name))
	}
	if len(setLimits) > 0 {
		sort.Strings(setLimits)
		notes = append(notes, fmt.Sprintf("%s limit for %s %s", strings.Join(setLimits, ", "), what, c.Name))
	}
	return notes
}

// CheckPod checks every container against the range's Container items and the
// whole pod against its Pod items.
func CheckPod(lr *corev1.LimitRange, pod *corev1.Pod) error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		switch item.Type {
		case corev1.LimitTypeContainer:
			for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
				for i := range cs {
					errs = append(errs, checkItem(item, cs[i].Resources.Requests, cs[i].Resources.Limits)...)
				}
			}
		case corev1.LimitTypePod:
			errs = append(errs, checkItem(item, podRequests(pod), podLimits(pod))...)
		}
	}
	return utilerrors.NewAggregate(errs)
}

// CheckClaim checks a claim's storage request against the range's
// PersistentVolumeClaim items (claims are never defaulted).
func CheckClaim(lr *corev1.LimitRange, pvc *corev1.PersistentVolumeClaim) error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypePersistentVolumeClaim {
			continue
		}
		for _, k := range sortedNames(item.Min) {
			if err := minConstraint(item.Type, k, item.Min[k], pvc.Spec.Resources.Requests, corev1.ResourceList{}); err != nil {
				errs = append(errs, err)
			}
		}
		for _, k := range sortedNames(item.Max) {
			if err := maxRequestConstraint(item.Type, k, item.Max[k], pvc.Spec.Resources.Requests); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return utilerrors.NewAggregate(errs)
}

func checkItem(item corev1.LimitRangeItem, requests, limits corev1.ResourceList) []error {
	var errs []error
	for _, k := range sortedNames(item.Min) {
		if err := minConstraint(item.Type, k, item.Min[k], requests, limits); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedNames(item.Max) {
		if err := maxConstraint(item.Type, k, item.Max[k], requests, limits); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedNames(item.MaxLimitRequestRatio) {
		if err := ratioConstraint(item.Type, k, item.MaxLimitRequestRatio[k], requests, limits); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// podRequests is what the pod asks for as a whole: its containers' sum, or
// the largest init container's when that is more; restartable (sidecar) init
// containers run beside the others and add up.
func podRequests(pod *corev1.Pod) corev1.ResourceList { return podTotal(pod, false) }

// podLimits is podRequests for limits.
func podLimits(pod *corev1.Pod) corev1.ResourceList { return podTotal(pod, true) }

func podTotal(pod *corev1.Pod, limits bool) corev1.ResourceList {
	of := func(c *corev1.Container) corev1.ResourceList {
		if limits {
			return c.Resources.Limits
		}
		return c.Resources.Requests
	}
	total := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		add(total, of(&pod.Spec.Containers[i]))
	}
	sidecars := corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(total, of(c))
			add(sidecars, of(c))
			continue
		}
		// A plain init container runs beside the sidecars started before it.
		need := corev1.ResourceList{}
		add(need, of(c))
		add(need, sidecars)
		for k, v := range need {
			if have, ok := total[k]; !ok || v.Cmp(have) > 0 {
				total[k] = v.DeepCopy()
			}
		}
	}
	return total
}

func add(dst, src corev1.ResourceList) {
	for k, v := range src {
		if have, ok := dst[k]; ok {
			have.Add(v)
			dst[k] = have
		} else {
			dst[k] = v.DeepCopy()
		}
	}
}
