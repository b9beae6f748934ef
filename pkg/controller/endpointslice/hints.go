package endpointslice

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Topology hints from spec.trafficDistribution, as upstream 1.34: PreferClose
// and PreferSameZone give each ready endpoint a hint for its own zone,
// PreferSameNode also one for its own node; without a trafficDistribution the
// hints are removed. (The older service.kubernetes.io/topology-mode: Auto
// annotation, which shares endpoints out by zone CPU, is not implemented: its
// slices keep whatever hints they have.)

const (
	topologyModeAnnotation     = corev1.AnnotationTopologyMode
	deprecatedTopologyHintsKey = corev1.DeprecatedAnnotationTopologyAwareHints
)

// hintMode says what a Service wants of its endpoints' hints.
type hintMode int

const (
	hintsNone        hintMode = iota // remove any hints
	hintsZone                        // a hint for the endpoint's zone
	hintsZoneAndNode                 // and one for its node
	hintsKeep                        // topology-mode: Auto, not handled here
)

func hintModeOf(svc *corev1.Service) hintMode {
	v, ok := svc.Annotations[deprecatedTopologyHintsKey]
	if !ok {
		v, ok = svc.Annotations[topologyModeAnnotation]
	}
	if ok && (v == "Auto" || v == "auto") {
		return hintsKeep
	}
	if td := svc.Spec.TrafficDistribution; td != nil {
		switch *td {
		case corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone:
			return hintsZone
		case corev1.ServiceTrafficDistributionPreferSameNode:
			return hintsZoneAndNode
		}
	}
	return hintsNone
}

// wantHints is the hints an endpoint should carry under a mode.
func wantHints(ep *discoveryv1.Endpoint, mode hintMode) *discoveryv1.EndpointHints {
	if mode == hintsNone {
		return nil
	}
	ready := ep.Conditions.Ready != nil && *ep.Conditions.Ready
	if !ready {
		return ep.Hints // upstream leaves the hints of endpoints that are not ready alone
	}
	var h discoveryv1.EndpointHints
	if ep.Zone != nil {
		h.ForZones = []discoveryv1.ForZone{{Name: *ep.Zone}}
	}
	if mode == hintsZoneAndNode && ep.NodeName != nil {
		h.ForNodes = []discoveryv1.ForNode{{Name: *ep.NodeName}}
	}
	if h.ForZones == nil && h.ForNodes == nil {
		return nil
	}
	return &h
}

func hintsEqual(a, b *discoveryv1.EndpointHints) bool {
	if a == nil || b == nil {
		return (a == nil || len(a.ForZones)+len(a.ForNodes) == 0) && (b == nil || len(b.ForZones)+len(b.ForNodes) == 0)
	}
	if len(a.ForZones) != len(b.ForZones) || len(a.ForNodes) != len(b.ForNodes) {
		return false
	}
	for i := range a.ForZones {
		if a.ForZones[i] != b.ForZones[i] {
			return false
		}
	}
	for i := range a.ForNodes {
		if a.ForNodes[i] != b.ForNodes[i] {
			return false
		}
	}
	return true
}

// needsHintUpdate reports whether any endpoint of a slice has other hints
// than the mode wants.
func needsHintUpdate(s *discoveryv1.EndpointSlice, mode hintMode) bool {
	if mode == hintsKeep {
		return false
	}
	for i := range s.Endpoints {
		if !hintsEqual(s.Endpoints[i].Hints, wantHints(&s.Endpoints[i], mode)) {
			return true
		}
	}
	return false
}

// setHints gives every endpoint of a slice the hints the mode wants.
func setHints(s *discoveryv1.EndpointSlice, mode hintMode) {
	if mode == hintsKeep {
		return
	}
	for i := range s.Endpoints {
		s.Endpoints[i].Hints = wantHints(&s.Endpoints[i], mode)
	}
}
