package rules

// endpointSets are the endpoints a service port's traffic may go to.
type endpointSets struct {
	// cluster: for Cluster traffic policies; local: this node's, for Local ones.
	cluster, local []Endpoint
	// any is true when the Service has a usable endpoint on some node, even
	// if this node's policies use none of them.
	any bool
	// reachable are all endpoints this node's rules can send to.
	reachable []Endpoint
}

// categorize picks endpoints as kube-proxy does: ready ones; when none is
// ready, those still serving while terminating, so a rolling update does not
// drop connections that could still be served. Each policy (cluster, local)
// falls back on its own.
func categorize(sp *ServicePort, eps []Endpoint) endpointSets {
	var s endpointSets
	if sp.usesClusterEndpoints() {
		s.cluster = filter(eps, func(e Endpoint) bool { return e.Ready })
		if len(s.cluster) == 0 {
			s.cluster = filter(eps, func(e Endpoint) bool { return e.Serving && e.Terminating })
		}
		s.any = len(s.cluster) > 0
	}
	if !sp.usesLocalEndpoints() {
		s.reachable = s.cluster
		return s
	}
	for _, e := range eps {
		if e.Ready || (e.Serving && e.Terminating) {
			s.any = true
		}
	}
	s.local = filter(eps, func(e Endpoint) bool { return e.Local && e.Ready })
	if len(s.local) == 0 {
		s.local = filter(eps, func(e Endpoint) bool { return e.Local && e.Serving && e.Terminating })
	}
	if !sp.usesClusterEndpoints() {
		s.reachable = s.local
		return s
	}
	// Both: local endpoints are usually a subset of the cluster ones, unless
	// the local ones are terminating fallbacks.
	s.reachable = append([]Endpoint{}, s.cluster...)
	seen := map[string]bool{}
	for _, e := range s.cluster {
		seen[e.String()] = true
	}
	for _, e := range s.local {
		if !seen[e.String()] {
			s.reachable = append(s.reachable, e)
		}
	}
	return s
}

func filter(eps []Endpoint, keep func(Endpoint) bool) []Endpoint {
	var out []Endpoint
	for _, e := range eps {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}
