package dns

import (
	"encoding/binary"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// Header flag bits.
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagRA = 1 << 7
	flagAD = 1 << 5
	flagCD = 1 << 4

	headerLen = 12
	// questionPtr is a compression pointer to the question's name, which
	// always starts right after the header: answers about the asked name use
	// it, so they carry the asker's spelling (case) of the name.
	questionPtr = 0xC000 | headerLen
)

// msg writes one response into a reused buffer: header, the question as
// asked, then records, each dropped whole when it would go over the size
// limit (a dropped answer sets TC, as a client should then retry over TCP).
type msg struct {
	b         []byte
	limit     int
	counts    [3]uint16 // answer, authority, additional
	section   int
	truncated bool
	// qnameEnd is the offset just past the question's name.
	qnameEnd int
	// target is the ExternalName target an "external" outcome must resolve.
	target string
}

const (
	answerSection = iota
	authoritySection
	additionalSection
)

// start writes the header and question of a reply to req. ok is false when
// the question's name cannot be packed (it was unpacked from the wire, so
// that does not happen with names miekg/dns accepted).
func (m *msg) start(buf []byte, req *mdns.Msg, limit int) bool {
	if cap(buf) < headerLen+256+4 {
		buf = make([]byte, 512)
	}
	m.b = buf[:headerLen]
	m.limit, m.counts, m.section, m.truncated, m.target = limit, [3]uint16{}, answerSection, false, ""
	binary.BigEndian.PutUint16(m.b[0:], req.Id)
	flags := uint16(flagQR) | uint16(req.Opcode&0xF)<<11
	if req.RecursionDesired {
		flags |= flagRD
	}
	if req.CheckingDisabled {
		flags |= flagCD
	}
	binary.BigEndian.PutUint16(m.b[2:], flags)
	binary.BigEndian.PutUint16(m.b[4:], 1)
	clear(m.b[6:12])
	q := req.Question[0]
	m.b = m.b[:cap(m.b)]
	off, err := mdns.PackDomainName(q.Name, m.b, headerLen, nil, false)
	if err != nil {
		return false
	}
	m.qnameEnd = off
	m.b = m.b[:off]
	m.b = binary.BigEndian.AppendUint16(m.b, q.Qtype)
	m.b = binary.BigEndian.AppendUint16(m.b, q.Qclass)
	return true
}

func (m *msg) setFlag(f uint16) {
	binary.BigEndian.PutUint16(m.b[2:], binary.BigEndian.Uint16(m.b[2:])|f)
}

func (m *msg) setRcode(rcode int) {
	v := binary.BigEndian.Uint16(m.b[2:])&^0xF | uint16(rcode&0xF)
	binary.BigEndian.PutUint16(m.b[2:], v)
}

// rr begins a record owned by the question's name (owner nil) or by a
// wire-format name; it returns the record's start offset for end().
func (m *msg) rr(owner []byte, typ uint16, ttl uint32) int {
	start := len(m.b)
	if owner == nil {
		m.b = binary.BigEndian.AppendUint16(m.b, questionPtr)
	} else {
		m.b = append(m.b, owner...)
	}
	m.b = binary.BigEndian.AppendUint16(m.b, typ)
	m.b = binary.BigEndian.AppendUint16(m.b, mdns.ClassINET)
	m.b = binary.BigEndian.AppendUint32(m.b, ttl)
	m.b = append(m.b, 0, 0) // rdlength, set by end
	return start
}

// rrNamed begins a record owned by "<label>.<suffix>" (suffix in wire format).
func (m *msg) rrNamed(label, suffix []byte, typ uint16, ttl uint32) int {
	start := len(m.b)
	m.b = appendLabel(m.b, label)
	m.b = append(m.b, suffix...)
	m.b = binary.BigEndian.AppendUint16(m.b, typ)
	m.b = binary.BigEndian.AppendUint16(m.b, mdns.ClassINET)
	m.b = binary.BigEndian.AppendUint32(m.b, ttl)
	m.b = append(m.b, 0, 0)
	return start
}

// rrAt begins a record owned by a name pointed to at off (a suffix of the
// question's name).
func (m *msg) rrAt(off int, typ uint16, ttl uint32) int {
	start := len(m.b)
	m.b = binary.BigEndian.AppendUint16(m.b, 0xC000|uint16(off))
	m.b = binary.BigEndian.AppendUint16(m.b, typ)
	m.b = binary.BigEndian.AppendUint16(m.b, mdns.ClassINET)
	m.b = binary.BigEndian.AppendUint32(m.b, ttl)
	m.b = append(m.b, 0, 0)
	return start
}

// end finishes the record begun at start: it fixes its length and counts it,
// or drops it if the message would go over the limit.
func (m *msg) end(start int) bool {
	if len(m.b) > m.limit {
		m.b = m.b[:start]
		if m.section == answerSection {
			m.truncated = true
		}
		return false
	}
	// rdata starts 10 bytes after the owner name; find it from the end of the header fields.
	rdStart := m.rdataStart(start)
	binary.BigEndian.PutUint16(m.b[rdStart-2:], uint16(len(m.b)-rdStart))
	m.counts[m.section]++
	return true
}

// rdataStart finds where the rdata of the record at start begins.
func (m *msg) rdataStart(start int) int {
	i := start
	for {
		c := m.b[i]
		if c&0xC0 == 0xC0 {
			i += 2
			break
		}
		if c == 0 {
			i++
			break
		}
		i += int(c) + 1
	}
	return i + 10
}

func (m *msg) a(owner []byte, ttl uint32, ip netip.Addr) bool {
	if ip.Is4() {
		s := m.rr(owner, mdns.TypeA, ttl)
		a := ip.As4()
		m.b = append(m.b, a[:]...)
		return m.end(s)
	}
	s := m.rr(owner, mdns.TypeAAAA, ttl)
	a := ip.As16()
	m.b = append(m.b, a[:]...)
	return m.end(s)
}

func (m *msg) srv(owner []byte, ttl uint32, weight, port uint16, target []byte, targetPrefix []byte) bool {
	s := m.rr(owner, mdns.TypeSRV, ttl)
	m.b = binary.BigEndian.AppendUint16(m.b, 0) // priority
	m.b = binary.BigEndian.AppendUint16(m.b, weight)
	m.b = binary.BigEndian.AppendUint16(m.b, port)
	m.b = appendLabel(m.b, targetPrefix)
	m.b = append(m.b, target...)
	return m.end(s)
}

// name writes a record whose rdata is one name (CNAME, PTR, NS).
func (m *msg) name(owner []byte, typ uint16, ttl uint32, prefix, target []byte) bool {
	s := m.rr(owner, typ, ttl)
	m.b = appendLabel(m.b, prefix)
	m.b = append(m.b, target...)
	return m.end(s)
}

func (m *msg) txt(owner []byte, ttl uint32, text string) bool {
	s := m.rr(owner, mdns.TypeTXT, ttl)
	m.b = append(m.b, byte(len(text)))
	m.b = append(m.b, text...)
	return m.end(s)
}

// soa writes the zone's SOA owned by the zone name, which is a suffix of the
// question's name starting at zoneOff.
func (m *msg) soa(zoneOff int, zone []byte, ttl uint32, serial, minttl uint32) bool {
	s := m.rrAt(zoneOff, mdns.TypeSOA, ttl)
	m.b = append(m.b, 2, 'n', 's', 3, 'd', 'n', 's')
	m.b = append(m.b, zone...)
	m.b = append(m.b, 10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r')
	m.b = append(m.b, zone...)
	m.b = binary.BigEndian.AppendUint32(m.b, serial)
	m.b = binary.BigEndian.AppendUint32(m.b, 7200)  // refresh
	m.b = binary.BigEndian.AppendUint32(m.b, 1800)  // retry
	m.b = binary.BigEndian.AppendUint32(m.b, 86400) // expire
	m.b = binary.BigEndian.AppendUint32(m.b, minttl)
	return m.end(s)
}

// opt appends an EDNS OPT record advertising size, with the DO bit if asked.
func (m *msg) opt(size uint16, do bool, rcodeHigh uint8) {
	start := len(m.b)
	m.b = append(m.b, 0) // root
	m.b = binary.BigEndian.AppendUint16(m.b, mdns.TypeOPT)
	m.b = binary.BigEndian.AppendUint16(m.b, size)
	var flags uint16
	if do {
		flags = 1 << 15
	}
	m.b = append(m.b, rcodeHigh, 0) // extended rcode, version 0
	m.b = binary.BigEndian.AppendUint16(m.b, flags)
	m.b = append(m.b, 0, 0)
	if len(m.b) > m.limit {
		m.b = m.b[:start]
		return
	}
	m.counts[additionalSection]++
}

// finish writes the counts (and TC) and returns the message.
func (m *msg) finish() []byte {
	binary.BigEndian.PutUint16(m.b[6:], m.counts[0])
	binary.BigEndian.PutUint16(m.b[8:], m.counts[1])
	binary.BigEndian.PutUint16(m.b[10:], m.counts[2])
	if m.truncated {
		m.setFlag(flagTC)
	}
	return m.b
}

// appendLabel appends one label (nothing for an empty one).
func appendLabel(b, label []byte) []byte {
	if len(label) == 0 {
		return b
	}
	b = append(b, byte(len(label)))
	return append(b, label...)
}
