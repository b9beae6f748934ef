package endpointslicemirroring

import (
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/endpoints"
	"github.com/minik8s/minik8s/pkg/controller/endpointslice"
)

// Input is what one mirroring of an Endpoints object looks at.
type Input struct {
	Endpoints *corev1.Endpoints
	// Existing are the slices mirrored from it so far.
	Existing []*discoveryv1.EndpointSlice
	// MaxPerSubset caps the addresses mirrored from one subset (upstream: 1000).
	MaxPerSubset int
}

// Plan is what to write, and what the user is told about.
type Plan struct {
	Create, Update, Delete []*discoveryv1.EndpointSlice
	// InvalidAddresses could not be mirrored (not an IP).
	InvalidAddresses int
	// Skipped addresses, invalid ones included, were left out.
	Skipped int
}

// key groups mirrored endpoints: one slice per address type and set of ports.
type key struct {
	at    discoveryv1.AddressType
	ports string
}

// Reconcile decides how the mirrored slices of a hand-written Endpoints
// object change: each subset's addresses (at most MaxPerSubset of them) go to
// the one slice of their address type and ports, as upstream's mirroring
// controller keeps them.
func Reconcile(in Input) Plan {
	var plan Plan
	ep := in.Endpoints
	want := map[key]*endpointslice.EndpointSet{}
	portsOf := map[key][]discoveryv1.EndpointPort{}
	var order []key
	for _, subset := range endpoints.Repack(ep.Subsets) {
		ports := slicePorts(subset.Ports)
		pk := endpointslice.PortsKey(ports)
		keys := map[discoveryv1.AddressType]key{}
		for _, at := range []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6} {
			k := key{at: at, ports: pk}
			keys[at] = k
			if _, ok := want[k]; !ok {
				want[k] = endpointslice.NewEndpointSet()
				order = append(order, k)
			}
			portsOf[k] = ports
		}
		total := len(subset.Addresses) + len(subset.NotReadyAddresses)
		added := 0
		add := func(list []corev1.EndpointAddress, ready bool) {
			for _, a := range list {
				if added >= in.MaxPerSubset {
					return
				}
				e, at, ok := endpointOf(a, ready)
				if !ok {
					plan.InvalidAddresses++
					continue
				}
				want[keys[at]].Insert(e)
				added++
			}
		}
		add(subset.Addresses, true)
		add(subset.NotReadyAddresses, false)
		plan.Skipped += total - added
	}

	existingByKey := map[key][]*discoveryv1.EndpointSlice{}
	var existingOrder []key
	for _, s := range in.Existing {
		k := key{at: s.AddressType, ports: endpointslice.PortsKey(s.Ports)}
		if _, ok := existingByKey[k]; !ok {
			existingOrder = append(existingOrder, k)
		}
		existingByKey[k] = append(existingByKey[k], s)
	}
	for _, k := range order {
		mirrorOne(&plan, ep, existingByKey[k], want[k], portsOf[k], k.at, in.MaxPerSubset)
	}
	for _, k := range existingOrder {
		if _, ok := want[k]; !ok {
			plan.Delete = append(plan.Delete, existingByKey[k]...)
		}
	}
	recycle(&plan)
	if ep.DeletionTimestamp != nil {
		plan.Create = nil
	}
	return plan
}

// mirrorOne plans the single slice of one address type and set of ports.
func mirrorOne(plan *Plan, ep *corev1.Endpoints, existing []*discoveryv1.EndpointSlice, want *endpointslice.EndpointSet,
	ports []discoveryv1.EndpointPort, at discoveryv1.AddressType, max int) {
	if want.Len() == 0 {
		plan.Delete = append(plan.Delete, existing...)
		return
	}
	name := ""
	if len(existing) > 0 {
		// Only one slice per key is kept; extra ones (from an older version) go.
		plan.Delete = append(plan.Delete, existing[1:]...)
		first := existing[0]
		if !endpointsChanged(first, want) && maps.Equal(ep.Labels, withoutKeys(first.Labels, discoveryv1.LabelManagedBy, discoveryv1.LabelServiceName)) &&
			equality.Semantic.DeepEqual(copiedAnnotations(ep.Annotations), emptyAsNil(first.Annotations)) && !ownerReplaced(ep, first) {
			return
		}
		name = first.Name
	}
	s := newSlice(ep, ports, at, name)
	for want.Len() > 0 && len(s.Endpoints) < max {
		s.Endpoints = append(s.Endpoints, *want.Pop())
	}
	if name != "" {
		plan.Update = append(plan.Update, s)
	} else {
		plan.Create = append(plan.Create, s)
	}
}

// endpointsChanged reports whether a slice's endpoints differ from the wanted ones.
func endpointsChanged(s *discoveryv1.EndpointSlice, want *endpointslice.EndpointSet) bool {
	matched := 0
	for i := range s.Endpoints {
		got := want.Get(&s.Endpoints[i])
		if got == nil || !endpointslice.EqualBeyondKey(got, &s.Endpoints[i]) {
			return true
		}
		matched++
	}
	return matched != want.Len()
}

// ownerReplaced: the slice belongs to an earlier Endpoints of the same name.
func ownerReplaced(ep *corev1.Endpoints, s *discoveryv1.EndpointSlice) bool {
	for _, o := range s.OwnerReferences {
		if o.Kind == "Endpoints" && o.Name == ep.Name && o.UID != ep.UID {
			return true
		}
	}
	return false
}

func recycle(plan *Plan) {
	for i := 0; i < len(plan.Create); {
		c := plan.Create[i]
		j := slices.IndexFunc(plan.Delete, func(d *discoveryv1.EndpointSlice) bool { return d.AddressType == c.AddressType })
		if j < 0 {
			i++
			continue
		}
		c.Name, c.GenerateName = plan.Delete[j].Name, ""
		plan.Update = append(plan.Update, c)
		plan.Create = append(plan.Create[:i], plan.Create[i+1:]...)
		plan.Delete = append(plan.Delete[:j], plan.Delete[j+1:]...)
	}
}

func newSlice(ep *corev1.Endpoints, ports []discoveryv1.EndpointPort, at discoveryv1.AddressType, name string) *discoveryv1.EndpointSlice {
	ref := metav1.NewControllerRef(ep, corev1.SchemeGroupVersion.WithKind("Endpoints"))
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ep.Namespace, OwnerReferences: []metav1.OwnerReference{*ref},
			Labels: maps.Clone(ep.Labels), Annotations: copiedAnnotations(ep.Annotations)},
		AddressType: at,
		Ports:       ports,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Labels[discoveryv1.LabelServiceName] = ep.Name
	s.Labels[discoveryv1.LabelManagedBy] = ManagedBy
	if name == "" {
		s.GenerateName = endpointslice.NamePrefix(ep.Name)
	}
	return s
}

// copiedAnnotations are the Endpoints annotations a mirrored slice carries.
func copiedAnnotations(a map[string]string) map[string]string {
	return emptyAsNil(withoutKeys(a, corev1.EndpointsLastChangeTriggerTime, corev1.LastAppliedConfigAnnotation))
}

func withoutKeys(m map[string]string, keys ...string) map[string]string {
	out := maps.Clone(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func emptyAsNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func slicePorts(ports []corev1.EndpointPort) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
	for _, p := range ports {
		out = append(out, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(p.Port), Protocol: ptr.To(p.Protocol), AppProtocol: p.AppProtocol})
	}
	return out
}

// endpointOf mirrors one address; ok is false when it is not an IP.
func endpointOf(a corev1.EndpointAddress, ready bool) (*discoveryv1.Endpoint, discoveryv1.AddressType, bool) {
	ip, err := netip.ParseAddr(a.IP)
	if err != nil {
		return nil, "", false
	}
	at := discoveryv1.AddressTypeIPv4
	if ip.Is6() && !ip.Is4In6() {
		at = discoveryv1.AddressTypeIPv6
	}
	e := &discoveryv1.Endpoint{Addresses: []string{ip.Unmap().String()}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)},
		TargetRef: a.TargetRef, NodeName: a.NodeName}
	if a.Hostname != "" {
		e.Hostname = ptr.To(a.Hostname)
	}
	return e, at, true
}

// Changes counts the writes of a plan.
func (p Plan) Changes() int { return len(p.Create) + len(p.Update) + len(p.Delete) }
