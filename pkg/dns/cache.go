package dns

import (
	"encoding/binary"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// CacheConfig is the response cache of forwarded answers, as CoreDNS's cache
// plugin: positive answers kept for their smallest TTL within [MinTTL,
// SuccessTTL], denials (NXDOMAIN, NODATA with an SOA) for the SOA's minimum
// within [MinTTL, DenialTTL], server failures for ServfailTTL. Served copies
// carry the remaining TTL.
type CacheConfig struct {
	// Capacity is the number of answers kept of each kind (positive, negative).
	Capacity int
	// SuccessTTL and DenialTTL cap how long answers are kept (CoreDNS: 3600 s
	// and 1800 s; kubeadm's Corefile says "cache 30", 30 s for both).
	SuccessTTL, DenialTTL time.Duration
	// MinTTL is the shortest time an answer is kept (CoreDNS: 5 s).
	MinTTL time.Duration
	// ServfailTTL keeps upstream failures (CoreDNS: 5 s); 0 does not.
	ServfailTTL time.Duration
}

// cacheItem is one cached upstream response, without its OPT record.
type cacheItem struct {
	msg    []byte
	flags  uint16 // the upstream's flags and rcode
	counts [3]uint16
	// ttls are the offsets of the records' TTL fields; ends the offsets just
	// past each record (for truncation).
	ttls, ends []uint16
	stored     time.Time
	ttl        uint32
	positive   bool
	// qEnd is the offset just past the question.
	qEnd int
}

// remaining is the TTL left at now; 0 when expired.
func (it *cacheItem) remaining(now time.Time) uint32 {
	left := int64(it.ttl) - int64(now.Sub(it.stored)/time.Second)
	if left <= 0 {
		return 0
	}
	return uint32(left)
}

type responseCache struct {
	cfg      CacheConfig
	now      func() time.Time
	mu       sync.RWMutex
	pos, neg map[string]*cacheItem
}

func newResponseCache(cfg CacheConfig, now func() time.Time) *responseCache {
	return &responseCache{cfg: cfg, now: now, pos: map[string]*cacheItem{}, neg: map[string]*cacheItem{}}
}

// cacheKey is the lookup key: the lower-case name, type, class, and the DO and
// CD bits (an answer with DNSSEC records is not one without).
func cacheKey(dst, lowerName []byte, qtype, qclass uint16, do, cd bool) []byte {
	dst = append(dst, lowerName...)
	dst = binary.BigEndian.AppendUint16(dst, qtype)
	dst = binary.BigEndian.AppendUint16(dst, qclass)
	var f byte
	if do {
		f |= 1
	}
	if cd {
		f |= 2
	}
	return append(dst, f)
}

// get returns a live item for key (the conversion does not allocate).
func (c *responseCache) get(key []byte) (*cacheItem, uint32) {
	c.mu.RLock()
	it := c.pos[string(key)]
	if it == nil {
		it = c.neg[string(key)]
	}
	c.mu.RUnlock()
	if it == nil {
		return nil, 0
	}
	left := it.remaining(c.now())
	if left == 0 {
		return nil, 0
	}
	return it, left
}

// put keeps a response if it may be kept, and returns the item (nil if not
// cacheable).
func (c *responseCache) put(key []byte, resp []byte) *cacheItem {
	it := c.item(resp)
	if it == nil {
		return nil
	}
	m := c.pos
	if !it.positive {
		m = c.neg
	}
	c.mu.Lock()
	if _, ok := m[string(key)]; !ok && len(m) >= c.cfg.Capacity {
		for k := range m { // map order is random: a random eviction, as CoreDNS
			delete(m, k)
			break
		}
	}
	m[string(key)] = it
	c.mu.Unlock()
	return it
}

// item classifies a response and computes how long it may be kept.
func (c *responseCache) item(resp []byte) *cacheItem {
	var parsed mdns.Msg
	if err := parsed.Unpack(resp); err != nil || parsed.Truncated || len(parsed.Question) != 1 {
		return nil
	}
	var d time.Duration
	positive := false
	switch {
	case parsed.Rcode == mdns.RcodeServerFailure:
		d = c.cfg.ServfailTTL
	case parsed.Rcode == mdns.RcodeSuccess && len(parsed.Answer) > 0:
		positive = true
		d = clampTTL(minTTL(&parsed), c.cfg.MinTTL, c.cfg.SuccessTTL)
	case parsed.Rcode == mdns.RcodeSuccess || parsed.Rcode == mdns.RcodeNameError:
		soa := findSOA(parsed.Ns)
		if soa == nil {
			return nil
		}
		d = clampTTL(time.Duration(min(soa.Hdr.Ttl, soa.Minttl))*time.Second, c.cfg.MinTTL, c.cfg.DenialTTL)
	default:
		return nil
	}
	if d < time.Second {
		return nil
	}
	it := &cacheItem{flags: binary.BigEndian.Uint16(resp[2:]), stored: c.now(), ttl: uint32(d / time.Second), positive: positive}
	if !walkRecords(resp, it) {
		return nil
	}
	return it
}

func clampTTL(d, lo, hi time.Duration) time.Duration { return min(max(d, lo), hi) }

// minTTL is the smallest TTL of a response's records (OPT aside).
func minTTL(m *mdns.Msg) time.Duration {
	least := uint32(math32)
	for _, list := range [][]mdns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range list {
			if rr.Header().Rrtype == mdns.TypeOPT {
				continue
			}
			least = min(least, rr.Header().Ttl)
		}
	}
	if least == math32 {
		return 0
	}
	return time.Duration(least) * time.Second
}

const math32 = 1<<32 - 1

func findSOA(rrs []mdns.RR) *mdns.SOA {
	for _, rr := range rrs {
		if s, ok := rr.(*mdns.SOA); ok {
			return s
		}
	}
	return nil
}

// walkRecords finds the TTL fields and record boundaries of a packed
// response and cuts its OPT record (which must come last) away.
func walkRecords(b []byte, it *cacheItem) bool {
	if len(b) < headerLen {
		return false
	}
	off := headerLen
	var ok bool
	if off, ok = skipName(b, off); !ok || off+4 > len(b) {
		return false
	}
	off += 4
	it.qEnd = off
	counts := [3]uint16{binary.BigEndian.Uint16(b[6:]), binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])}
	end := len(b)
	for sec := 0; sec < 3; sec++ {
		for i := uint16(0); i < counts[sec]; i++ {
			start := off
			if off, ok = skipName(b, off); !ok || off+10 > len(b) {
				return false
			}
			typ := binary.BigEndian.Uint16(b[off:])
			ttlOff := off + 4
			rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
			off += 10 + rdlen
			if off > len(b) {
				return false
			}
			if typ == mdns.TypeOPT {
				if sec != additionalSection || off != len(b) {
					return false
				}
				end = start
				continue
			}
			it.ttls = append(it.ttls, uint16(ttlOff))
			it.ends = append(it.ends, uint16(off))
			it.counts[sec]++
		}
	}
	it.msg = append([]byte(nil), b[:end]...)
	return true
}

func skipName(b []byte, off int) (int, bool) {
	for off < len(b) {
		c := b[off]
		switch {
		case c == 0:
			return off + 1, true
		case c&0xC0 == 0xC0:
			return off + 2, off+2 <= len(b)
		case c&0xC0 != 0:
			return 0, false
		}
		off += int(c) + 1
	}
	return 0, false
}

// serve writes the item as the answer into m (whose question is already
// written): the item's records with the remaining TTL, cut to m's limit. It
// reports false if the item's question is not laid out as m's (equal keys
// make that impossible; the query is then forwarded again).
func (it *cacheItem) serve(m *msg, ttl uint32, recursionDesired bool) bool {
	base := len(m.b)
	if base != it.qEnd {
		return false
	}
	m.b = append(m.b, it.msg[it.qEnd:]...)
	for _, o := range it.ttls {
		binary.BigEndian.PutUint32(m.b[o:], ttl)
	}
	m.counts = it.counts
	if len(m.b) > m.limit {
		// Keep the answers that fit, drop the rest, say so.
		keep := 0
		for keep < int(it.counts[answerSection]) && int(it.ends[keep]) <= m.limit {
			keep++
		}
		if keep == int(it.counts[answerSection]) {
			// All answers fit: drop authority and additional records quietly.
			m.b = m.b[:lastEnd(it, keep, base)]
			m.counts = [3]uint16{uint16(keep), 0, 0}
		} else {
			m.b = m.b[:lastEnd(it, keep, base)]
			m.counts = [3]uint16{uint16(keep), 0, 0}
			m.truncated = true
		}
	}
	// Flags: the upstream's recursion-available, authenticated-data and rcode; ours otherwise.
	f := binary.BigEndian.Uint16(m.b[2:])&^(flagAA|0xF) | it.flags&(flagRA|flagAD|0xF)
	if !recursionDesired {
		f &^= flagRD
	}
	binary.BigEndian.PutUint16(m.b[2:], f)
	m.section = additionalSection
	return true
}

func lastEnd(it *cacheItem, keep, base int) int {
	if keep == 0 {
		return base
	}
	return int(it.ends[keep-1])
}
