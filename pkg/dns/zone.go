package dns

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// service is one Service compiled for answering: immutable once built, so a
// query reads it without holding any lock.
type service struct {
	name, namespace string
	// fqdn is "<name>.<namespace>.svc.<zone>." in wire format.
	fqdn []byte
	kind serviceKind
	// clusterIPs of a ClusterIP Service; externalIPs (spec and load balancer) for PTR only.
	clusterIPs, externalIPs []netip.Addr
	ports                   []port
	// external is an ExternalName Service's target, in wire format and as text.
	external     []byte
	externalText string
	// endpoints are the ready endpoints of all the Service's slices.
	endpoints []endpoint
}

type serviceKind uint8

const (
	kindClusterIP serviceKind = iota
	kindHeadless
	kindExternalName
)

// port is a Service or endpoint port; a Service or slice without ports has
// one with number -1, as CoreDNS: it matches A queries but makes no SRV record.
type port struct {
	name     string // lower case
	protocol string // lower case: tcp, udp, sctp
	number   int32
}

type endpoint struct {
	addr netip.Addr
	// label names the endpoint under its Service: its hostname, or its dashed IP.
	label []byte
	ports []port
}

// ptrTarget is what a reverse lookup of one IP finds: a Service (label nil) or
// one of its endpoints.
type ptrTarget struct {
	svc   *service
	label []byte
}

// zone holds the compiled records. Writers replace whole services; readers
// take the read lock only to look a service up.
type zone struct {
	mu         sync.RWMutex
	services   map[string]*service // "<name>.<namespace>"
	namespaces map[string]struct{}
	reverse    map[netip.Addr][]ptrTarget
	// serial is the SOA serial: the Unix time of the last change.
	serial atomic.Uint32
	now    func() time.Time
}

func newZone(now func() time.Time) *zone {
	z := &zone{services: map[string]*service{}, namespaces: map[string]struct{}{}, reverse: map[netip.Addr][]ptrTarget{}, now: now}
	z.touch()
	return z
}

func (z *zone) touch() { z.serial.Store(uint32(z.now().Unix())) }

// lookup returns the Service with key "<name>.<namespace>" (a lower-case
// byte slice; the conversion does not allocate).
func (z *zone) lookup(key []byte) *service {
	z.mu.RLock()
	s := z.services[string(key)]
	z.mu.RUnlock()
	return s
}

func (z *zone) hasNamespace(ns []byte) bool {
	z.mu.RLock()
	_, ok := z.namespaces[string(ns)]
	z.mu.RUnlock()
	return ok
}

// ptr returns what a reverse lookup of ip finds; the slice must not be changed.
func (z *zone) ptr(ip netip.Addr) []ptrTarget {
	z.mu.RLock()
	t := z.reverse[ip]
	z.mu.RUnlock()
	return t
}

// set replaces (or, with s nil, removes) the Service with key.
func (z *zone) set(key string, s *service) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if old := z.services[key]; old != nil {
		z.unindex(old)
	}
	if s == nil {
		delete(z.services, key)
	} else {
		z.services[key] = s
		z.index(s)
	}
	z.touch()
}

func (z *zone) setNamespace(name string, exists bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if exists {
		z.namespaces[name] = struct{}{}
	} else {
		delete(z.namespaces, name)
	}
	z.touch()
}

func (z *zone) index(s *service) {
	for _, ip := range s.clusterIPs {
		z.reverse[ip] = append(z.reverse[ip], ptrTarget{svc: s})
	}
	for _, ip := range s.externalIPs {
		z.reverse[ip] = append(z.reverse[ip], ptrTarget{svc: s})
	}
	for _, ep := range s.endpoints {
		z.reverse[ep.addr] = append(z.reverse[ep.addr], ptrTarget{svc: s, label: ep.label})
	}
}

func (z *zone) unindex(s *service) {
	drop := func(ip netip.Addr) {
		list := z.reverse[ip]
		out := list[:0:0]
		for _, t := range list {
			if t.svc != s {
				out = append(out, t)
			}
		}
		if len(out) == 0 {
			delete(z.reverse, ip)
		} else {
			z.reverse[ip] = out
		}
	}
	for _, ip := range s.clusterIPs {
		drop(ip)
	}
	for _, ip := range s.externalIPs {
		drop(ip)
	}
	for _, ep := range s.endpoints {
		drop(ep.addr)
	}
}
