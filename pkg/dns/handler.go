package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Config is the cluster DNS's answering side.
type Config struct {
	// Domain is the cluster domain ("cluster.local").
	Domain string
	// TTL of the cluster's records (CoreDNS's kubernetes plugin: 5 s).
	TTL uint32
	// ClusterDNS are the kube-dns Service's ClusterIPs: the zone's name server.
	ClusterDNS []netip.Addr
	// Upstreams answer every other name; none means SERVFAIL for them.
	Upstreams []netip.AddrPort
	// ForwardTimeout bounds one attempt at one upstream.
	ForwardTimeout time.Duration
	Cache          CacheConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// DefaultCache is kubeadm's Corefile "cache 30" on CoreDNS's defaults.
var DefaultCache = CacheConfig{Capacity: 9984, SuccessTTL: 30 * time.Second, DenialTTL: 30 * time.Second,
	MinTTL: 5 * time.Second, ServfailTTL: 5 * time.Second}

// Validate checks the configuration.
func (c *Config) Validate() error {
	d := strings.TrimSuffix(c.Domain, ".")
	if d == "" || strings.Contains(d, "..") || len(d) > 253 {
		return fmt.Errorf("cluster DNS: %q is not a domain", c.Domain)
	}
	for _, l := range strings.Split(d, ".") {
		if len(l) == 0 || len(l) > 63 {
			return fmt.Errorf("cluster DNS: %q is not a domain", c.Domain)
		}
	}
	switch {
	case c.TTL == 0 || c.TTL > 3600:
		return fmt.Errorf("cluster DNS: TTL %d must be between 1 and 3600 seconds", c.TTL)
	case c.ForwardTimeout <= 0:
		return errors.New("cluster DNS: the forward timeout must be positive")
	case c.Cache.Capacity < 1:
		return errors.New("cluster DNS: the cache needs room for at least one answer")
	case c.Cache.MinTTL < 0 || c.Cache.SuccessTTL < c.Cache.MinTTL || c.Cache.DenialTTL < c.Cache.MinTTL:
		return errors.New("cluster DNS: cache TTLs must satisfy 0 <= min <= success, denial")
	}
	return nil
}

// Handler answers DNS queries: the cluster zone from memory, the rest
// through the cache and the upstream resolvers. It is a miekg/dns Handler.
type Handler struct {
	cfg     Config
	rec     *records
	cache   *responseCache
	fwd     *forwarder
	metrics *metrics
	pool    sync.Pool
	log     *slog.Logger
}

// scratch is one query's buffers, reused across queries.
type scratch struct {
	m                      msg
	buf, name, key, packed []byte
	resp                   []byte
}

const maxMessage = 65535

// NewHandler builds a handler answering from z.
func NewHandler(cfg Config, z *zone) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	origin := strings.ToLower(strings.TrimSuffix(cfg.Domain, ".")) + "."
	rec := &records{z: z, origin: []byte(origin), originWire: wireName(origin), ttl: cfg.TTL,
		nsName: wireName("kube-dns.kube-system.svc." + origin), nsIPs: cfg.ClusterDNS}
	if len(cfg.ClusterDNS) == 0 {
		rec.nsName = wireName("ns.dns." + origin)
	}
	h := &Handler{cfg: cfg, rec: rec, cache: newResponseCache(cfg.Cache, cfg.Now), fwd: newForwarder(cfg.Upstreams, cfg.ForwardTimeout),
		metrics: newMetrics(), log: log}
	// Buffers fit a typical answer; a bigger one (over TCP) grows its own.
	h.pool.New = func() any {
		return &scratch{buf: make([]byte, 4096), name: make([]byte, 0, 256), key: make([]byte, 0, 272)}
	}
	return h, nil
}

// Close releases the forwarder's sockets.
func (h *Handler) Close() { h.fwd.close() }

func isTCP(w mdns.ResponseWriter) bool {
	_, ok := w.RemoteAddr().(*net.TCPAddr)
	return ok
}

// optSize is the room an OPT record without options takes.
const optSize = 11

// ServeDNS answers one query.
func (h *Handler) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	st := h.pool.Get().(*scratch)
	defer h.pool.Put(st)
	tcp := isTCP(w)
	h.metrics.requests(tcp).Inc()

	limit := mdns.MinMsgSize
	opt := req.IsEdns0()
	var ednsSize uint16
	if opt != nil {
		ednsSize = max(opt.UDPSize(), mdns.MinMsgSize)
		limit = int(ednsSize)
	}
	if tcp {
		limit = maxMessage
	}
	m := &st.m
	if len(req.Question) != 1 || !m.start(st.buf, req, limit) {
		// miekg/dns lets through only queries with one question; a name that
		// does not pack again is malformed too.
		h.writeMsg(w, new(mdns.Msg).SetRcodeFormatError(req))
		return
	}
	if opt != nil {
		m.limit -= optSize // the OPT always fits
	}
	switch {
	case req.Opcode != mdns.OpcodeQuery:
		m.setRcode(mdns.RcodeNotImplemented)
		h.write(w, m, opt, ednsSize, 0)
		return
	case opt != nil && opt.Version() != 0:
		// BADVERS (16): the low bits in the header, the high ones in the OPT.
		h.write(w, m, opt, ednsSize, mdns.RcodeBadVers>>4)
		return
	}
	q := req.Question[0]
	name, plain := appendLower(st.name[:0], q.Name)
	st.name = name
	if plain && h.rec.inZone(name) {
		o := h.rec.answer(m, name, q.Qtype)
		switch o {
		case external:
			h.external(w, req, st, tcp, limit)
			return
		case noData, nxDomain:
			h.rec.negative(m, o)
		}
		m.setFlag(flagAA)
		h.write(w, m, opt, ednsSize, 0)
		return
	}
	if plain && q.Qtype == mdns.TypePTR {
		if ip, ok := reverseIP(name); ok && h.rec.reverseAnswer(m, ip) {
			m.setFlag(flagAA)
			h.write(w, m, opt, ednsSize, 0)
			return
		}
	}
	h.forward(w, req, st, plain, tcp, opt, ednsSize)
}

// write finishes m (the OPT record when the query had one) and sends it.
func (h *Handler) write(w mdns.ResponseWriter, m *msg, opt *mdns.OPT, ednsSize uint16, extRcode uint8) {
	if opt != nil {
		m.limit += optSize
		m.section = additionalSection
		m.opt(ednsSize, opt.Do(), extRcode)
	}
	out := m.finish()
	h.metrics.responses(int(out[3] & 0xF)).Inc()
	if _, err := w.Write(out); err != nil {
		h.log.Debug("write DNS answer", "client", w.RemoteAddr(), "err", err)
	}
}

func (h *Handler) writeMsg(w mdns.ResponseWriter, m *mdns.Msg) {
	h.metrics.responses(m.Rcode).Inc()
	if err := w.WriteMsg(m); err != nil {
		h.log.Debug("write DNS answer", "client", w.RemoteAddr(), "err", err)
	}
}

// forward answers a name outside the cluster from the cache or the upstreams.
func (h *Handler) forward(w mdns.ResponseWriter, req *mdns.Msg, st *scratch, cacheable, tcp bool, opt *mdns.OPT, ednsSize uint16) {
	m := &st.m
	q := req.Question[0]
	if cacheable {
		st.key = cacheKey(st.key[:0], st.name, q.Qtype, q.Qclass, opt != nil && opt.Do(), req.CheckingDisabled)
		if it, ttl := h.cache.get(st.key); it != nil && it.serve(m, ttl, req.RecursionDesired) {
			h.metrics.cacheHits.Inc()
			h.write(w, m, opt, ednsSize, 0)
			return
		}
		h.metrics.cacheMisses.Inc()
	}
	query, err := req.PackBuffer(st.packed)
	if err != nil {
		m.setRcode(mdns.RcodeServerFailure)
		h.write(w, m, opt, ednsSize, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.metrics.forwards.Inc()
	if st.resp == nil {
		st.resp = make([]byte, 0, maxMessage) // only queries that are forwarded need room for any answer
	}
	resp, err := h.fwd.exchange(ctx, query, tcp, st.resp)
	if err != nil {
		h.metrics.forwardFailures.Inc()
		h.log.Debug("forward DNS query", "name", q.Name, "err", err)
		m.setRcode(mdns.RcodeServerFailure)
		h.write(w, m, opt, ednsSize, 0)
		return
	}
	if cacheable {
		if it := h.cache.put(st.key, resp); it != nil && it.serve(m, it.ttl, req.RecursionDesired) {
			h.write(w, m, opt, ednsSize, 0)
			return
		}
	}
	// Not kept: passed on as the upstream wrote it.
	h.metrics.responses(int(resp[3] & 0xF)).Inc()
	if _, err := w.Write(resp); err != nil {
		h.log.Debug("write DNS answer", "client", w.RemoteAddr(), "err", err)
	}
}

// external answers A, AAAA or TXT for an ExternalName Service: a CNAME to its
// target, followed by the target's records (from the zone when the target is
// in it, else from the upstreams); no records at all when the target has
// none, as CoreDNS.
func (h *Handler) external(w mdns.ResponseWriter, req *mdns.Msg, st *scratch, tcp bool, limit int) {
	q := req.Question[0]
	target := st.m.target
	var more []mdns.RR
	lower, _ := appendLower(nil, target)
	if h.rec.inZone(lower) {
		more = h.localRecords(target, q.Qtype, 0)
	} else if ans := h.lookupUpstream(target, q.Qtype, req, tcp); ans != nil {
		more = ans.Answer
		if more == nil {
			more = []mdns.RR{} // the target exists without records: the CNAME alone
		}
	}
	resp := new(mdns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if more == nil {
		st.m.start(st.buf, req, limit)
		h.rec.negative(&st.m, noData)
		st.m.setFlag(flagAA)
		opt := req.IsEdns0()
		var size uint16
		if opt != nil {
			size = max(opt.UDPSize(), mdns.MinMsgSize)
		}
		h.write(w, &st.m, opt, size, 0)
		return
	}
	resp.Answer = append([]mdns.RR{&mdns.CNAME{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeCNAME, Class: mdns.ClassINET, Ttl: h.cfg.TTL},
		Target: target}}, more...)
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(max(opt.UDPSize(), mdns.MinMsgSize), opt.Do())
	}
	resp.Truncate(limit)
	h.writeMsg(w, resp)
}

// localRecords are the zone's records of a name, through ExternalName chains
// of at most 10 links.
func (h *Handler) localRecords(name string, qtype uint16, depth int) []mdns.RR {
	if depth > 10 {
		return nil
	}
	req := new(mdns.Msg).SetQuestion(name, qtype)
	var m msg
	if !m.start(make([]byte, maxMessage), req, maxMessage) {
		return nil
	}
	lower, _ := appendLower(nil, name)
	switch h.rec.answer(&m, lower, qtype) {
	case answered:
		var parsed mdns.Msg
		if err := parsed.Unpack(m.finish()); err != nil {
			return nil
		}
		return parsed.Answer
	case external:
		rest := h.localRecords(m.target, qtype, depth+1)
		if rest == nil {
			return nil
		}
		return append([]mdns.RR{&mdns.CNAME{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeCNAME, Class: mdns.ClassINET, Ttl: h.cfg.TTL},
			Target: m.target}}, rest...)
	}
	return nil
}

// lookupUpstream resolves a name through the cache and the upstreams; nil
// when that failed.
func (h *Handler) lookupUpstream(name string, qtype uint16, orig *mdns.Msg, tcp bool) *mdns.Msg {
	q := new(mdns.Msg).SetQuestion(name, qtype)
	q.RecursionDesired = true
	lower, _ := appendLower(nil, name)
	key := cacheKey(nil, lower, qtype, mdns.ClassINET, false, false)
	var raw []byte
	if it, ttl := h.cache.get(key); it != nil {
		var m msg
		if m.start(make([]byte, maxMessage), q, maxMessage) && it.serve(&m, ttl, true) {
			raw = m.finish()
		}
	}
	if raw == nil {
		packed, err := q.Pack()
		if err != nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := h.fwd.exchange(ctx, packed, tcp, make([]byte, 0, maxMessage))
		if err != nil {
			return nil
		}
		raw = resp
		// Served as the cache would serve it again: the same TTLs every time.
		if it := h.cache.put(key, resp); it != nil {
			var m msg
			if m.start(make([]byte, maxMessage), q, maxMessage) && it.serve(&m, it.ttl, true) {
				raw = m.finish()
			}
		}
	}
	var parsed mdns.Msg
	if err := parsed.Unpack(raw); err != nil {
		return nil
	}
	if parsed.Rcode != mdns.RcodeSuccess && parsed.Rcode != mdns.RcodeNameError {
		return nil
	}
	return &parsed
}
