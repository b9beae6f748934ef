package dns

import (
	"bytes"
	"math"
	"net/netip"
	"sync/atomic"

	mdns "github.com/miekg/dns"
)

// outcome is what the zone made of a query.
type outcome uint8

const (
	notInZone outcome = iota // forward it
	answered                 // records written: NOERROR, authoritative
	noData                   // the name exists, not with that type: NOERROR + SOA
	nxDomain                 // no such name: NXDOMAIN + SOA
	external                 // an ExternalName Service's target must be resolved (slow path)
)

// DNSSchemaVersion is the version of the Kubernetes DNS specification served.
const DNSSchemaVersion = "1.1.0"

// records is the answering side of the zone: the compiled Services plus the
// settings answers depend on.
type records struct {
	z *zone
	// origin is the cluster domain, lower case with a trailing dot, and in wire format.
	origin     []byte
	originWire []byte
	ttl        uint32
	// nsName and nsIPs are the zone's name server as NS records show it: the
	// kube-dns Service and its ClusterIPs.
	nsName []byte
	nsIPs  []netip.Addr
	// rotate spreads the order of multi-address answers (CoreDNS's loadbalance).
	rotate atomic.Uint32
}

var (
	labelSvc        = []byte("svc")
	labelPod        = []byte("pod")
	labelDNSVersion = []byte("dns-version")
	labelNS         = []byte("ns")
	labelDNS        = []byte("dns")
)

// inZone reports whether a lower-case name is the cluster domain or below it.
func (r *records) inZone(name []byte) bool {
	if len(name) == len(r.origin) {
		return bytes.Equal(name, r.origin)
	}
	return len(name) > len(r.origin) && name[len(name)-len(r.origin)-1] == '.' && bytes.HasSuffix(name, r.origin)
}

// answer writes the records for a name in the zone (lower case, trailing dot)
// into m and says what it found. For noData and nxDomain nothing is written:
// the caller adds the SOA.
func (r *records) answer(m *msg, name []byte, qtype uint16) outcome {
	if len(name) == len(r.origin) { // the apex
		switch qtype {
		case mdns.TypeSOA:
			r.writeSOA(m)
			m.section = answerSection
			return answered
		case mdns.TypeNS:
			m.name(nil, mdns.TypeNS, r.ttl, nil, r.nsName)
			m.section = additionalSection
			for _, ip := range r.nsIPs {
				m.a(r.nsName, r.ttl, ip)
			}
			return answered
		}
		return noData
	}
	rel := name[:len(name)-len(r.origin)-1]
	var l [6][]byte
	n := splitLabels(rel, &l)
	switch {
	case n == 1 && bytes.Equal(l[0], labelDNSVersion):
		if qtype != mdns.TypeTXT {
			return noData
		}
		m.txt(nil, 28800, DNSSchemaVersion)
		return answered
	case n == 2 && bytes.Equal(l[0], labelDNS) && bytes.Equal(l[1], labelNS):
		return r.addresses(m, qtype, r.nsIPs)
	case bytes.Equal(l[0], labelSvc):
		return r.answerService(m, rel, &l, n, qtype)
	case bytes.Equal(l[0], labelPod):
		return r.answerPod(m, &l, n, qtype)
	}
	return nxDomain
}

func (r *records) answerPod(m *msg, l *[6][]byte, n int, qtype uint16) outcome {
	switch {
	case n == 1:
		return noData
	case n > 3:
		return nxDomain
	case !r.z.hasNamespace(l[1]):
		return nxDomain
	case n == 2:
		return noData
	}
	ip, ok := dashedIP(l[2])
	if !ok {
		return nxDomain
	}
	if (qtype == mdns.TypeA && ip.Is4()) || (qtype == mdns.TypeAAAA && !ip.Is4()) {
		m.a(nil, r.ttl, ip)
		return answered
	}
	return noData
}

// answerService answers names under svc: the namespace, a Service, one of its
// endpoints, or one of its ports (_port._proto).
func (r *records) answerService(m *msg, rel []byte, l *[6][]byte, n int, qtype uint16) outcome {
	switch {
	case n == 1:
		return noData
	case n > 5:
		return nxDomain
	case !r.z.hasNamespace(l[1]):
		return nxDomain
	case n == 2:
		return noData
	}
	// "<name>.<namespace>" is contiguous in the name: it is the Service's key.
	keyStart := len(rel) - len(l[0]) - 1 - len(l[1]) - 1 - len(l[2])
	svc := r.z.lookup(rel[keyStart : keyStart+len(l[2])+1+len(l[1])])
	if svc == nil {
		return nxDomain
	}
	var epLabel, portName, proto []byte
	switch n {
	case 4:
		epLabel = l[3]
	case 5:
		proto, portName = stripUnderscore(l[3]), stripUnderscore(l[4])
	}
	switch svc.kind {
	case kindExternalName:
		if n > 3 || svc.external == nil {
			return nxDomain
		}
		switch qtype {
		case mdns.TypeCNAME:
			m.name(nil, mdns.TypeCNAME, r.ttl, nil, svc.external)
			return answered
		case mdns.TypeA, mdns.TypeAAAA, mdns.TypeTXT:
			m.target = svc.externalText
			return external
		}
		return noData
	case kindHeadless:
		return r.answerEndpoints(m, svc, epLabel, portName, proto, qtype)
	}
	if epLabel != nil {
		return r.answerEndpoints(m, svc, epLabel, portName, proto, qtype)
	}
	matches := 0
	for _, p := range svc.ports {
		if portMatches(p, portName, proto) {
			matches++
		}
	}
	if matches == 0 {
		return nxDomain
	}
	switch qtype {
	case mdns.TypeA, mdns.TypeAAAA:
		return r.addresses(m, qtype, svc.clusterIPs)
	case mdns.TypeSRV:
		weight := srvWeight(matches * len(svc.clusterIPs))
		wrote := false
		for _, p := range svc.ports {
			if p.number < 0 || !portMatches(p, portName, proto) {
				continue
			}
			m.srv(nil, r.ttl, weight, uint16(p.number), svc.fqdn, nil)
			wrote = true
		}
		if !wrote {
			return noData
		}
		m.section = additionalSection
		for _, ip := range svc.clusterIPs {
			m.a(svc.fqdn, r.ttl, ip)
		}
		return answered
	}
	return noData
}

// answerEndpoints answers for a headless Service, or for one endpoint of any
// Service: its endpoints whose label (if given) and ports match.
func (r *records) answerEndpoints(m *msg, svc *service, epLabel, portName, proto []byte, qtype uint16) outcome {
	matches := 0
	for i := range svc.endpoints {
		ep := &svc.endpoints[i]
		if epLabel != nil && !bytes.Equal(ep.label, epLabel) {
			continue
		}
		for _, p := range ep.ports {
			if portMatches(p, portName, proto) {
				matches++
			}
		}
	}
	if matches == 0 {
		return nxDomain
	}
	switch qtype {
	case mdns.TypeA, mdns.TypeAAAA:
		want4 := qtype == mdns.TypeA
		n := len(svc.endpoints)
		start := 0
		if epLabel == nil && n > 1 {
			start = int(r.rotate.Add(1) % uint32(n))
		}
		wrote := false
		for k := 0; k < n; k++ {
			ep := &svc.endpoints[(start+k)%n]
			if ep.addr.Is4() != want4 || (epLabel != nil && !bytes.Equal(ep.label, epLabel)) || !anyPortMatches(ep.ports, portName, proto) {
				continue
			}
			if duplicateAddr(svc.endpoints, (start+k)%n, start, ep.addr) {
				continue
			}
			m.a(nil, r.ttl, ep.addr)
			wrote = true
		}
		if !wrote {
			return noData
		}
		return answered
	case mdns.TypeSRV:
		weight := srvWeight(matches)
		wrote := false
		for i := range svc.endpoints {
			ep := &svc.endpoints[i]
			if epLabel != nil && !bytes.Equal(ep.label, epLabel) {
				continue
			}
			for _, p := range ep.ports {
				if p.number < 0 || !portMatches(p, portName, proto) {
					continue
				}
				m.srv(nil, r.ttl, weight, uint16(p.number), svc.fqdn, ep.label)
				wrote = true
			}
		}
		if !wrote {
			return noData
		}
		m.section = additionalSection
		for i := range svc.endpoints {
			ep := &svc.endpoints[i]
			if (epLabel != nil && !bytes.Equal(ep.label, epLabel)) || !anyPortMatches(ep.ports, portName, proto) {
				continue
			}
			if duplicateTarget(svc.endpoints, i, ep) {
				continue
			}
			r.targetAddress(m, svc, ep)
		}
		return answered
	}
	return noData
}

// targetAddress writes "<label>.<service fqdn> A|AAAA <ip>" in the additional section.
func (r *records) targetAddress(m *msg, svc *service, ep *endpoint) {
	typ := uint16(mdns.TypeA)
	if !ep.addr.Is4() {
		typ = mdns.TypeAAAA
	}
	s := m.rrNamed(ep.label, svc.fqdn, typ, r.ttl)
	if typ == mdns.TypeA {
		a := ep.addr.As4()
		m.b = append(m.b, a[:]...)
	} else {
		a := ep.addr.As16()
		m.b = append(m.b, a[:]...)
	}
	m.end(s)
}

// duplicateAddr: the address was already written earlier in this rotation.
func duplicateAddr(eps []endpoint, i, start int, a netip.Addr) bool {
	for j := start; j != i; j = (j + 1) % len(eps) {
		if eps[j].addr == a {
			return true
		}
	}
	return false
}

func duplicateTarget(eps []endpoint, i int, ep *endpoint) bool {
	for j := 0; j < i; j++ {
		if eps[j].addr == ep.addr && bytes.Equal(eps[j].label, ep.label) {
			return true
		}
	}
	return false
}

// addresses writes the addresses of the asked family.
func (r *records) addresses(m *msg, qtype uint16, ips []netip.Addr) outcome {
	wrote := false
	for _, ip := range ips {
		if ip.Is4() == (qtype == mdns.TypeA) && (qtype == mdns.TypeA || qtype == mdns.TypeAAAA) {
			m.a(nil, r.ttl, ip)
			wrote = true
		}
	}
	if !wrote {
		return noData
	}
	return answered
}

// writeSOA writes the zone's SOA in the current section (authority for a
// negative answer), owned by the zone's part of the question name.
func (r *records) writeSOA(m *msg) {
	m.soa(m.qnameEnd-len(r.originWire), r.originWire, r.ttl, r.z.serial.Load(), r.ttl)
}

// negative writes NODATA or NXDOMAIN with the SOA, as CoreDNS does.
func (r *records) negative(m *msg, o outcome) {
	if o == nxDomain {
		m.setRcode(mdns.RcodeNameError)
	}
	m.section = authoritySection
	r.writeSOA(m)
}

// srvWeight spreads 100 over n records, as CoreDNS does.
func srvWeight(n int) uint16 {
	if n <= 0 {
		return 100
	}
	w := uint16(math.Floor(100.0 / float64(100*n) * 100))
	if w == 0 {
		w = 1
	}
	return w
}

func portMatches(p port, name, proto []byte) bool {
	return (len(name) == 0 || string(name) == p.name) && (len(proto) == 0 || string(proto) == p.protocol)
}

func anyPortMatches(ps []port, name, proto []byte) bool {
	for _, p := range ps {
		if portMatches(p, name, proto) {
			return true
		}
	}
	return false
}

func stripUnderscore(l []byte) []byte {
	if len(l) > 0 && l[0] == '_' {
		return l[1:]
	}
	return l
}

// reverseAnswer writes the PTR records of an IP; false when the zone knows
// nothing of it (the query is then forwarded).
func (r *records) reverseAnswer(m *msg, ip netip.Addr) bool {
	targets := r.z.ptr(ip)
	if len(targets) == 0 {
		return false
	}
	// A Service's own address names the Service; otherwise every endpoint with it.
	for _, t := range targets {
		if t.label == nil {
			m.name(nil, mdns.TypePTR, r.ttl, nil, t.svc.fqdn)
			return true
		}
	}
	for i, t := range targets {
		dup := false
		for _, o := range targets[:i] {
			if o.svc == t.svc && bytes.Equal(o.label, t.label) {
				dup = true
			}
		}
		if !dup {
			m.name(nil, mdns.TypePTR, r.ttl, t.label, t.svc.fqdn)
		}
	}
	return true
}
