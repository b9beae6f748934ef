package endpoints

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/servicepods"
)

// MaxAddresses caps the addresses of one Endpoints object, as upstream; the
// rest is dropped and the object marked with the over-capacity annotation
// (EndpointSlices carry them all).
const MaxAddresses = 1000

// desiredSubsets computes a Service's v1 Endpoints subsets from its pods:
// each pod's address of the Service's primary IP family, ready or not ready,
// under every port that resolves on the pod, packed into the fewest subsets
// (addresses sharing the same ports together).
func desiredSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	var flat []corev1.EndpointSubset
	for _, pod := range pods {
		if !servicepods.Included(pod, svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		ip, ok := podIPForService(svc, pod)
		if !ok {
			continue
		}
		addr := corev1.EndpointAddress{IP: ip, NodeName: ptr.To(pod.Spec.NodeName),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}}
		if servicepods.SetsHostname(pod, svc) {
			addr.Hostname = pod.Spec.Hostname
		}
		ready := svc.Spec.PublishNotReadyAddresses || servicepods.Ready(pod)
		if len(svc.Spec.Ports) == 0 {
			if svc.Spec.ClusterIP == corev1.ClusterIPNone {
				flat = append(flat, subsetOf(addr, nil, ready))
			}
			continue
		}
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			n, ok := servicepods.FindPort(pod, sp)
			if !ok {
				continue
			}
			flat = append(flat, subsetOf(addr, &corev1.EndpointPort{Name: sp.Name, Port: n, Protocol: sp.Protocol, AppProtocol: sp.AppProtocol}, ready))
		}
	}
	return Repack(flat)
}

func subsetOf(addr corev1.EndpointAddress, port *corev1.EndpointPort, ready bool) corev1.EndpointSubset {
	s := corev1.EndpointSubset{Ports: []corev1.EndpointPort{}}
	if port != nil {
		s.Ports = append(s.Ports, *port)
	}
	if ready {
		s.Addresses = []corev1.EndpointAddress{addr}
	} else {
		s.NotReadyAddresses = []corev1.EndpointAddress{addr}
	}
	return s
}

// podIPForService is the pod's first IP of the Service's primary family.
func podIPForService(svc *corev1.Service, pod *corev1.Pod) (string, bool) {
	wantV6 := false
	if len(svc.Spec.IPFamilies) > 0 {
		wantV6 = svc.Spec.IPFamilies[0] == corev1.IPv6Protocol
	} else if a, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		wantV6 = a.Is6() && !a.Is4In6()
	}
	ips := pod.Status.PodIPs
	if len(ips) == 0 && pod.Status.PodIP != "" {
		ips = []corev1.PodIP{{IP: pod.Status.PodIP}}
	}
	for _, p := range ips {
		a, err := netip.ParseAddr(p.IP)
		if err != nil {
			continue
		}
		if (a.Is6() && !a.Is4In6()) == wantV6 {
			return a.Unmap().String(), true
		}
	}
	return "", false
}

// Repack merges subsets: every address is listed once per set of ports it
// serves, addresses serving the same ports (with the same readiness) share a
// subset, and an address not ready under one port is not ready under all, as
// upstream's RepackSubsets. The result is sorted so equal inputs compare equal.
func Repack(subsets []corev1.EndpointSubset) []corev1.EndpointSubset {
	type addrKey struct{ ip, uid string }
	keyOf := func(a *corev1.EndpointAddress) addrKey {
		k := addrKey{ip: a.IP}
		if a.TargetRef != nil {
			k.uid = string(a.TargetRef.UID)
		}
		return k
	}
	addrs := map[addrKey]corev1.EndpointAddress{}
	ports := map[string]corev1.EndpointPort{}
	// per port: address -> ready
	byPort := map[string]map[addrKey]bool{}
	note := func(a *corev1.EndpointAddress, pk string, ready bool) {
		k := keyOf(a)
		if _, ok := addrs[k]; !ok {
			addrs[k] = *a
		}
		m := byPort[pk]
		if m == nil {
			m = map[addrKey]bool{}
			byPort[pk] = m
		}
		if was, seen := m[k]; !seen || was {
			m[k] = ready
		}
	}
	const noPort = "\x00"
	for i := range subsets {
		s := &subsets[i]
		keys := []string{noPort}
		if len(s.Ports) > 0 {
			keys = keys[:0]
			for _, p := range s.Ports {
				pk := portKey(p)
				ports[pk] = p
				keys = append(keys, pk)
			}
		}
		for _, pk := range keys {
			for j := range s.Addresses {
				note(&s.Addresses[j], pk, true)
			}
			for j := range s.NotReadyAddresses {
				note(&s.NotReadyAddresses[j], pk, false)
			}
		}
	}
	// Ports with the same addresses (and readiness) share a subset.
	type group struct {
		set   map[addrKey]bool
		ports []corev1.EndpointPort
	}
	groups := map[string]*group{}
	var order []string
	portKeys := make([]string, 0, len(byPort))
	for pk := range byPort {
		portKeys = append(portKeys, pk)
	}
	slices.Sort(portKeys)
	for _, pk := range portKeys {
		set := byPort[pk]
		keys := make([]string, 0, len(set))
		for k, ready := range set {
			keys = append(keys, k.ip+"/"+k.uid+"/"+strconv.FormatBool(ready))
		}
		slices.Sort(keys)
		gk := strings.Join(keys, ",")
		g, ok := groups[gk]
		if !ok {
			g = &group{set: set}
			groups[gk] = g
			order = append(order, gk)
		}
		if pk != noPort {
			g.ports = append(g.ports, ports[pk])
		}
	}
	out := []corev1.EndpointSubset{}
	for _, gk := range order {
		g := groups[gk]
		s := corev1.EndpointSubset{Ports: g.ports}
		for k, ready := range g.set {
			if ready {
				s.Addresses = append(s.Addresses, addrs[k])
			} else {
				s.NotReadyAddresses = append(s.NotReadyAddresses, addrs[k])
			}
		}
		sortAddresses(s.Addresses)
		sortAddresses(s.NotReadyAddresses)
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b corev1.EndpointSubset) int { return strings.Compare(subsetKey(a), subsetKey(b)) })
	return out
}

func sortAddresses(list []corev1.EndpointAddress) {
	slices.SortFunc(list, func(a, b corev1.EndpointAddress) int {
		if c := strings.Compare(a.IP, b.IP); c != 0 {
			return c
		}
		var ua, ub string
		if a.TargetRef != nil {
			ua = string(a.TargetRef.UID)
		}
		if b.TargetRef != nil {
			ub = string(b.TargetRef.UID)
		}
		return strings.Compare(ua, ub)
	})
}

func portKey(p corev1.EndpointPort) string {
	return p.Name + "/" + string(p.Protocol) + "/" + strconv.Itoa(int(p.Port)) + "/" + ptr.Deref(p.AppProtocol, "")
}

func subsetKey(s corev1.EndpointSubset) string {
	var b strings.Builder
	for _, p := range s.Ports {
		b.WriteString(portKey(p))
		b.WriteByte(';')
	}
	for _, a := range s.Addresses {
		b.WriteString(a.IP)
		b.WriteByte(';')
	}
	for _, a := range s.NotReadyAddresses {
		b.WriteString(a.IP)
		b.WriteByte(';')
	}
	return b.String()
}

// truncate keeps at most MaxAddresses addresses, ready ones first, taking
// from every subset in proportion to its size, as upstream does; it reports
// whether anything was dropped.
func truncate(subsets []corev1.EndpointSubset) bool {
	ready, notReady := 0, 0
	for _, s := range subsets {
		ready += len(s.Addresses)
		notReady += len(s.NotReadyAddresses)
	}
	if ready+notReady <= MaxAddresses {
		return false
	}
	// Only not-ready addresses are cut unless the ready ones alone are too many.
	cutReady := ready > MaxAddresses
	room, total := MaxAddresses-ready, notReady
	if cutReady {
		room, total = MaxAddresses, ready
	}
	left := room
	for i := range subsets {
		s := &subsets[i]
		n := len(s.NotReadyAddresses)
		if cutReady {
			n = len(s.Addresses)
		}
		take := int(math.Ceil(float64(n) / float64(total) * float64(room)))
		take = min(take, left)
		if cutReady {
			s.Addresses = s.Addresses[:min(take, len(s.Addresses))]
			s.NotReadyAddresses = []corev1.EndpointAddress{}
			left -= len(s.Addresses)
		} else {
			s.NotReadyAddresses = s.NotReadyAddresses[:min(take, len(s.NotReadyAddresses))]
			left -= len(s.NotReadyAddresses)
		}
	}
	return true
}
