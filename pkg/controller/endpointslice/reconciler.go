package endpointslice

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/controller/servicepods"
)

// Input is what one reconciliation of a Service's slices looks at.
type Input struct {
	Service *corev1.Service
	// Pods are the pods the Service's selector matches.
	Pods []*corev1.Pod
	// Zone returns the topology zone of a node ("" if it has none); ok is
	// false for a node that does not exist.
	Zone func(node string) (zone string, ok bool)
	// Existing are the Service's slices managed by this controller that are
	// not being deleted.
	Existing []*discoveryv1.EndpointSlice
	// MaxPerSlice caps the endpoints of one slice (upstream's default: 100).
	MaxPerSlice int
	// Controller is the managed-by label value.
	Controller string
	// TriggerTime becomes the last-change-trigger-time annotation of written
	// slices; zero removes it.
	TriggerTime time.Time
}

// Plan is what to write. Slices to create have no name (generateName).
type Plan struct {
	Create, Update, Delete []*discoveryv1.EndpointSlice
	// SkippedPods are pods left out because their node does not exist (yet):
	// the Service is looked at again later.
	SkippedPods []string
}

// Changes counts the writes of a plan.
func (p Plan) Changes() int { return len(p.Create) + len(p.Update) + len(p.Delete) }

// Reconcile decides how a Service's slices must change for its pods, keeping
// churn low as upstream's reconciler does: endpoints stay in the slice they
// are in, changed ones are updated in place, new ones first fill the slices
// that change anyway, then the slice closest to full that can take them all,
// then new slices; a slice that would be created while another is deleted is
// written over the deleted one instead.
func Reconcile(in Input) Plan {
	var plan Plan
	types := addressTypes(in.Service)
	byType := map[discoveryv1.AddressType][]*discoveryv1.EndpointSlice{}
	for _, s := range in.Existing {
		if !slices.Contains(types, s.AddressType) {
			plan.Delete = append(plan.Delete, s)
			continue
		}
		byType[s.AddressType] = append(byType[s.AddressType], s)
	}
	skipped := map[string]bool{}
	for _, at := range types {
		p := reconcileAddressType(in, at, byType[at], skipped)
		plan.Create = append(plan.Create, p.Create...)
		plan.Update = append(plan.Update, p.Update...)
		plan.Delete = append(plan.Delete, p.Delete...)
	}
	for name := range skipped {
		plan.SkippedPods = append(plan.SkippedPods, name)
	}
	slices.Sort(plan.SkippedPods)
	if in.Service.DeletionTimestamp != nil {
		// The garbage collector is removing the slices: do not race it with new ones.
		plan.Create = nil
	}
	for _, s := range plan.Create {
		setTriggerTime(s, in.TriggerTime)
	}
	for _, s := range plan.Update {
		setTriggerTime(s, in.TriggerTime)
	}
	return plan
}

// group is the desired endpoints sharing one set of ports.
type group struct {
	ports     []discoveryv1.EndpointPort
	endpoints *EndpointSet
}

func reconcileAddressType(in Input, at discoveryv1.AddressType, existing []*discoveryv1.EndpointSlice, skipped map[string]bool) Plan {
	var plan Plan
	svc := in.Service
	existingByPorts := map[string][]*discoveryv1.EndpointSlice{}
	var portOrder []string
	for _, s := range existing {
		if !ownedBy(s, svc) {
			plan.Delete = append(plan.Delete, s)
			continue
		}
		k := PortsKey(s.Ports)
		if _, ok := existingByPorts[k]; !ok {
			portOrder = append(portOrder, k)
		}
		existingByPorts[k] = append(existingByPorts[k], s)
	}

	desired := map[string]*group{}
	var desiredOrder []string
	for _, pod := range in.Pods {
		if !servicepods.Included(pod, true) {
			continue
		}
		zone, nodeOK := "", true
		if in.Zone != nil && pod.Spec.NodeName != "" {
			zone, nodeOK = in.Zone(pod.Spec.NodeName)
		}
		if !nodeOK && !svc.Spec.PublishNotReadyAddresses {
			// Left out until its node shows up (or the pod is removed), so a
			// dangling reference cannot keep a stale endpoint forever.
			skipped[pod.Name] = true
			continue
		}
		var ports []discoveryv1.EndpointPort
		if len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP == corev1.ClusterIPNone {
			ports = []discoveryv1.EndpointPort{} // a headless Service may have no ports
		} else {
			ports = endpointPorts(svc, pod)
		}
		k := PortsKey(ports)
		g, ok := desired[k]
		if !ok {
			g = &group{ports: ports, endpoints: NewEndpointSet()}
			desired[k] = g
			desiredOrder = append(desiredOrder, k)
		}
		ep := podEndpoint(pod, zone, svc, at)
		if len(ep.Addresses) > 0 {
			g.endpoints.Insert(&ep)
		}
	}

	for _, k := range desiredOrder {
		p := reconcilePorts(in, at, existingByPorts[k], desired[k])
		plan.Create = append(plan.Create, p.Create...)
		plan.Update = append(plan.Update, p.Update...)
		plan.Delete = append(plan.Delete, p.Delete...)
	}
	for _, k := range portOrder {
		if _, ok := desired[k]; !ok {
			plan.Delete = append(plan.Delete, existingByPorts[k]...)
		}
	}

	// A Service with no endpoints of this type still gets one empty slice, so
	// consumers can tell "no endpoints" from "not processed yet".
	if len(existing) == len(plan.Delete) && len(plan.Create) == 0 {
		placeholder := newSlice(svc, at, []discoveryv1.EndpointPort{}, in.Controller)
		if len(plan.Delete) == 1 && isPlaceholder(plan.Delete[0], placeholder, svc) {
			plan.Delete = nil // it is already there
		} else {
			plan.Create = append(plan.Create, placeholder)
		}
	}

	mode := hintModeOf(svc)
	changed := map[string]bool{}
	for _, s := range plan.Update {
		changed[s.Name] = true
	}
	for _, s := range plan.Delete {
		changed[s.Name] = true
	}
	for _, s := range existing {
		if !changed[s.Name] && needsHintUpdate(s, mode) {
			plan.Update = append(plan.Update, s.DeepCopy())
		}
	}
	for _, s := range plan.Create {
		setHints(s, mode)
	}
	for _, s := range plan.Update {
		setHints(s, mode)
	}

	recycle(&plan, svc)
	return plan
}

// reconcilePorts plans the slices of one set of ports.
func reconcilePorts(in Input, at discoveryv1.AddressType, existing []*discoveryv1.EndpointSlice, want *group) Plan {
	svc, max := in.Service, in.MaxPerSlice
	byName := map[string]*discoveryv1.EndpointSlice{}
	var unchanged, toUpdate, toDelete []string

	// 1. Keep the endpoints still wanted where they are, in their new version.
	for _, s := range existing {
		byName[s.Name] = s
		kept := []discoveryv1.Endpoint{}
		updated := false
		for i := range s.Endpoints {
			got := want.endpoints.Get(&s.Endpoints[i])
			if got == nil {
				continue
			}
			kept = append(kept, *got)
			if !EqualBeyondKey(got, &s.Endpoints[i]) {
				updated = true
			}
			want.endpoints.Delete(got)
		}
		labels, labelsChanged := sliceLabels(s.Labels, svc, in.Controller)
		switch {
		case updated || len(kept) != len(s.Endpoints):
			if len(kept) == 0 {
				toDelete = append(toDelete, s.Name)
				continue
			}
			c := s.DeepCopy()
			c.Endpoints, c.Labels = kept, labels
			byName[s.Name] = c
			toUpdate = append(toUpdate, s.Name)
		case labelsChanged:
			c := s.DeepCopy()
			c.Labels = labels
			byName[s.Name] = c
			toUpdate = append(toUpdate, s.Name)
		default:
			unchanged = append(unchanged, s.Name)
		}
	}

	// 2. Fill the slices that change anyway, fullest first.
	if want.endpoints.Len() > 0 && len(toUpdate) > 0 {
		fill := slices.Clone(toUpdate)
		slices.SortStableFunc(fill, func(a, b string) int { return len(byName[b].Endpoints) - len(byName[a].Endpoints) })
		for _, name := range fill {
			s := byName[name]
			for want.endpoints.Len() > 0 && len(s.Endpoints) < max {
				s.Endpoints = append(s.Endpoints, *want.endpoints.Pop())
			}
		}
	}

	// 3. The rest: into the unchanged slice closest to full that takes them
	// all, else into new slices.
	var create []*discoveryv1.EndpointSlice
	for want.endpoints.Len() > 0 {
		var target *discoveryv1.EndpointSlice
		if want.endpoints.Len() < max && len(unchanged) > 0 {
			if name := closestToFull(byName, unchanged, want.endpoints.Len(), max); name != "" {
				target = byName[name].DeepCopy()
				byName[name] = target
				unchanged = slices.DeleteFunc(unchanged, func(n string) bool { return n == name })
				toUpdate = append(toUpdate, name)
			}
		}
		if target == nil {
			target = newSlice(svc, at, want.ports, in.Controller)
			create = append(create, target)
		}
		for want.endpoints.Len() > 0 && len(target.Endpoints) < max {
			target.Endpoints = append(target.Endpoints, *want.endpoints.Pop())
		}
	}

	plan := Plan{Create: create}
	for _, n := range toUpdate {
		plan.Update = append(plan.Update, byName[n])
	}
	for _, n := range toDelete {
		plan.Delete = append(plan.Delete, byName[n])
	}
	return plan
}

// closestToFull picks the slice that would be fullest after taking n more
// endpoints without going over max.
func closestToFull(byName map[string]*discoveryv1.EndpointSlice, names []string, n, max int) string {
	best, bestGap := "", max
	for _, name := range names {
		gap := max - (n + len(byName[name].Endpoints))
		if gap >= 0 && gap < bestGap {
			best, bestGap = name, gap
			if gap == 0 {
				break
			}
		}
	}
	return best
}

// recycle turns creates into updates of slices about to be deleted, so a
// change that moves endpoints between port sets rewrites one object instead
// of deleting one and creating another.
func recycle(plan *Plan, svc *corev1.Service) {
	for i := 0; i < len(plan.Delete) && len(plan.Create) > 0; {
		old := plan.Delete[i]
		last := plan.Create[len(plan.Create)-1]
		if old.AddressType != last.AddressType || !ownedBy(old, svc) {
			i++
			continue
		}
		last.Name, last.GenerateName = old.Name, ""
		last.ResourceVersion = old.ResourceVersion
		plan.Create = plan.Create[:len(plan.Create)-1]
		plan.Update = append(plan.Update, last)
		plan.Delete = append(plan.Delete[:i], plan.Delete[i+1:]...)
	}
}

// newSlice is an empty slice for a Service.
func newSlice(svc *corev1.Service, at discoveryv1.AddressType, ports []discoveryv1.EndpointPort, controller string) *discoveryv1.EndpointSlice {
	ref := metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{GenerateName: NamePrefix(svc.Name), Namespace: svc.Namespace,
			OwnerReferences: []metav1.OwnerReference{*ref}},
		AddressType: at,
		Ports:       ports,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	s.Labels, _ = sliceLabels(nil, svc, controller)
	return s
}

// isPlaceholder reports whether an existing slice is the placeholder the
// Service would get anyway.
func isPlaceholder(have, want *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	if have.Namespace != want.Namespace || have.AddressType != want.AddressType ||
		len(have.Endpoints) != 0 || len(have.Ports) != 0 || !ownedBy(have, svc) {
		return false
	}
	if len(have.Labels) != len(want.Labels) {
		return false
	}
	for k, v := range want.Labels {
		if hv, ok := have.Labels[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

func ownedBy(s *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	for _, o := range s.OwnerReferences {
		if o.UID == svc.UID && o.Kind == "Service" && o.APIVersion == "v1" {
			return true
		}
	}
	return false
}

func setTriggerTime(s *discoveryv1.EndpointSlice, at time.Time) {
	if at.IsZero() {
		delete(s.Annotations, corev1.EndpointsLastChangeTriggerTime)
		return
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[corev1.EndpointsLastChangeTriggerTime] = at.UTC().Format(time.RFC3339Nano)
}

// describe is a short account of a plan for logs.
func (p Plan) describe() string {
	return fmt.Sprintf("%d created, %d updated, %d deleted", len(p.Create), len(p.Update), len(p.Delete))
}
