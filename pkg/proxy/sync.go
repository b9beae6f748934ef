package proxy

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime/debug"
	"sort"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/proxy/rules"
)

// sync brings the kernel in line with the Services changed since the last
// sync: their contributions are recomputed, then each family's table gets
// one transaction (the whole table the first time, or after a failure).
// Stale UDP conntrack entries go once the new rules are in.
func (p *Proxier) sync(now time.Time) error {
	if len(p.families) == 0 {
		return errNoFamilies
	}
	p.updateServiceCIDRs()
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[types.NamespacedName]bool{}
	p.mu.Unlock()

	keys := make([]types.NamespacedName, 0, len(dirty))
	for k := range dirty {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, key := range keys {
		svc, err := p.services.Services(key.Namespace).Get(key.Name)
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("read service %s: %w", key, err)
		}
		slices := p.slicesOf(key)
		checks := map[uint16]healthCheck{}
		for _, f := range p.families {
			cur := servicePorts(svc, slices, p.cfg.NodeName, f.cfg.Family)
			old := f.applied[key]
			keep := map[string]bool{}
			for i := range cur {
				pk := portKey(cur[i].port.Name)
				keep[pk] = true
				f.state.Set(pk, rules.Service(f.cfg, &cur[i].port, cur[i].endpoints))
			}
			for i := range old {
				if pk := portKey(old[i].port.Name); !keep[pk] {
					f.state.Set(pk, nil)
				}
			}
			p.flows = append(p.flows, staleUDPFlows(old, cur)...)
			if len(cur) == 0 {
				delete(f.applied, key)
			} else {
				f.applied[key] = cur
			}
			addHealthChecks(checks, key, cur)
		}
		if len(checks) == 0 {
			delete(p.checks, key)
		} else {
			p.checks[key] = checks
		}
	}

	var errs []error
	fullSync := false
	for _, f := range p.families {
		full := f.state.NeedFull()
		tx := f.state.Changes(now)
		start := time.Now()
		if err := p.cfg.Backend.Apply(tx); err != nil {
			f.state.Failed()
			errs = append(errs, fmt.Errorf("apply %s table %s: %w", f.cfg.Family, f.cfg.Table, err))
			continue
		}
		if full {
			fullSync = true
			// took is the whole sync, from reading the caches on (kube-proxy's
			// sync duration); apply, the kernel transaction alone.
			p.log.Info("service rules installed", "family", f.cfg.Family.String(), "servicePorts", f.state.Len(),
				"operations", len(tx.Ops), "apply", time.Since(start).Round(time.Millisecond), "took", time.Since(now).Round(time.Millisecond))
		} else if !tx.Empty() {
			p.log.Debug("service rules updated", "family", f.cfg.Family.String(), "operations", len(tx.Ops),
				"took", time.Since(start).Round(time.Microsecond))
		}
	}
	if fullSync {
		// A full sync builds the whole table a second time, garbage once
		// applied: give that memory back rather than keep it as heap
		// headroom (a hundred MiB and more at 10,000 Services).
		debug.FreeOSMemory()
	}
	if len(errs) == 0 && len(p.flows) > 0 {
		if err := p.cfg.Conntrack.ClearUDP(p.flows); err != nil {
			// Entries left behind expire with the client's silence; a failure
			// here does not undo the rules.
			p.log.Warn("clear stale UDP conntrack entries", "err", err)
		}
		p.flows = nil
	}
	want := map[uint16]healthCheck{}
	for _, checks := range p.checks {
		for port, c := range checks {
			want[port] = c
		}
	}
	p.health.sync(want)
	return errors.Join(errs...)
}

func portKey(n rules.ServicePortName) string { return n.String() + "/" + string(n.Protocol) }

func (p *Proxier) slicesOf(key types.NamespacedName) []*discoveryv1.EndpointSlice {
	objs, err := p.slices.ByIndex(sliceServiceIndex, key.String())
	if err != nil {
		return nil
	}
	out := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*discoveryv1.EndpointSlice); ok {
			out = append(out, s)
		}
	}
	// Oldest first, so a duplicate endpoint resolves the same way each time.
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// addHealthChecks records what an externalTrafficPolicy Local Service's
// healthCheckNodePort should answer: how many of its endpoints are ready on
// this node (kube-proxy counts endpoints, not ports).
func addHealthChecks(into map[uint16]healthCheck, key types.NamespacedName, ports []portEndpoints) {
	local := map[netip.Addr]bool{}
	hc := uint16(0)
	for _, pe := range ports {
		if pe.port.HealthCheckNodePort == 0 {
			continue
		}
		hc = pe.port.HealthCheckNodePort
		for _, e := range pe.endpoints {
			if e.Local && e.Ready {
				local[e.Addr] = true
			}
		}
	}
	if hc == 0 {
		return
	}
	c := into[hc]
	c.svc = key
	c.localEndpoints += len(local)
	into[hc] = c
}
