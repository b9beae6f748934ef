package dns

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// forwarder sends queries for names outside the cluster to the node's
// resolvers, as CoreDNS's forward plugin: each upstream tried in turn from a
// random one, over UDP (or TCP when the client asked over TCP), a truncated
// UDP answer passed on as it is (the client retries over TCP).
type forwarder struct {
	upstreams []netip.AddrPort
	timeout   time.Duration
	// idle UDP sockets per upstream, reused across queries.
	idle map[netip.AddrPort]chan *net.UDPConn
}

// errNoUpstream is returned when there is no resolver to ask.
var errNoUpstream = errors.New("no upstream resolver")

func newForwarder(upstreams []netip.AddrPort, timeout time.Duration) *forwarder {
	f := &forwarder{upstreams: upstreams, timeout: timeout, idle: map[netip.AddrPort]chan *net.UDPConn{}}
	for _, u := range upstreams {
		f.idle[u] = make(chan *net.UDPConn, 64)
	}
	return f
}

// exchange sends a packed query (its ID is replaced) and returns the answer
// with the query's ID restored, into buf's storage when it fits.
func (f *forwarder) exchange(ctx context.Context, query []byte, tcp bool, buf []byte) ([]byte, error) {
	if len(f.upstreams) == 0 {
		return nil, errNoUpstream
	}
	id := binary.BigEndian.Uint16(query)
	first := rand.IntN(len(f.upstreams))
	var lastErr error
	for i := range f.upstreams {
		u := f.upstreams[(first+i)%len(f.upstreams)]
		var resp []byte
		var err error
		if tcp {
			resp, err = f.tcp(ctx, u, query, buf)
		} else {
			resp, err = f.udp(ctx, u, query, buf)
		}
		if err == nil {
			binary.BigEndian.PutUint16(resp, id)
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func (f *forwarder) udp(ctx context.Context, u netip.AddrPort, query, buf []byte) ([]byte, error) {
	var c *net.UDPConn
	select {
	case c = <-f.idle[u]:
	default:
		var err error
		c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(u))
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", u, err)
		}
	}
	id := uint16(rand.Uint32())
	binary.BigEndian.PutUint16(query, id)
	deadline := time.Now().Add(f.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetDeadline(deadline)
	if _, err := c.Write(query); err != nil {
		c.Close()
		return nil, fmt.Errorf("send to %s: %w", u, err)
	}
	buf = buf[:cap(buf)]
	for {
		n, err := c.Read(buf)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("read from %s: %w", u, err)
		}
		// A late answer to an earlier query on this socket is not ours.
		if n >= headerLen && binary.BigEndian.Uint16(buf) == id && sameQuestion(buf[:n], query) {
			select {
			case f.idle[u] <- c:
			default:
				c.Close()
			}
			return buf[:n], nil
		}
	}
}

func (f *forwarder) tcp(ctx context.Context, u netip.AddrPort, query, buf []byte) ([]byte, error) {
	d := net.Dialer{Timeout: f.timeout}
	c, err := d.DialContext(ctx, "tcp", u.String())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(f.timeout))
	id := uint16(rand.Uint32())
	binary.BigEndian.PutUint16(query, id)
	out := make([]byte, 2+len(query))
	binary.BigEndian.PutUint16(out, uint16(len(query)))
	copy(out[2:], query)
	if _, err := c.Write(out); err != nil {
		return nil, fmt.Errorf("send to %s: %w", u, err)
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, fmt.Errorf("read from %s: %w", u, err)
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, fmt.Errorf("read from %s: %w", u, err)
	}
	if n < headerLen || binary.BigEndian.Uint16(buf) != id || !sameQuestion(buf, query) {
		return nil, fmt.Errorf("answer from %s does not match the query", u)
	}
	return buf, nil
}

// sameQuestion compares the question sections of two messages, ignoring case.
func sameQuestion(a, b []byte) bool {
	ea, ok1 := skipName(a, headerLen)
	eb, ok2 := skipName(b, headerLen)
	if !ok1 || !ok2 || ea != eb || ea+4 > len(a) || eb+4 > len(b) || binary.BigEndian.Uint16(a[4:]) != 1 {
		return false
	}
	for i := headerLen; i < ea+4; i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (f *forwarder) close() {
	for _, ch := range f.idle {
		for {
			select {
			case c := <-ch:
				c.Close()
				continue
			default:
			}
			break
		}
	}
}

// Upstreams reads the nameservers of a resolv.conf, leaving out those that
// would send queries back to this server (its own listen address, or the
// cluster DNS addresses that lead to it). When everything left is the
// systemd-resolved stub, the real upstreams systemd-resolved uses are taken
// from its own file, as the kubelet does.
func Upstreams(path string, self []netip.AddrPort, clusterDNS []netip.Addr) ([]netip.AddrPort, error) {
	ups, err := readNameservers(path)
	if err != nil {
		return nil, err
	}
	if len(ups) > 0 && allStub(ups) {
		if real, err := readNameservers("/run/systemd/resolve/resolv.conf"); err == nil && len(real) > 0 {
			ups = real
		}
	}
	var out []netip.AddrPort
	for _, u := range ups {
		if loops(u, self, clusterDNS) {
			continue
		}
		out = append(out, u)
	}
	return out, nil
}

func allStub(ups []netip.AddrPort) bool {
	for _, u := range ups {
		if u.Addr() != netip.MustParseAddr("127.0.0.53") {
			return false
		}
	}
	return true
}

// loops reports whether forwarding to u would reach this server again.
func loops(u netip.AddrPort, self []netip.AddrPort, clusterDNS []netip.Addr) bool {
	for _, ip := range clusterDNS {
		if u.Addr() == ip {
			return true
		}
	}
	for _, s := range self {
		if u.Port() != s.Port() {
			continue
		}
		if u.Addr() == s.Addr() || (s.Addr().IsUnspecified() && (u.Addr().IsLoopback() || isLocalAddr(u.Addr()))) {
			return true
		}
	}
	return false
}

// isLocalAddr reports whether an address belongs to this host.
func isLocalAddr(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, x := range addrs {
		if n, ok := x.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == a {
				return true
			}
		}
	}
	return false
}

func readNameservers(path string) ([]netip.AddrPort, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read resolvers: %w", err)
	}
	defer f.Close()
	var out []netip.AddrPort
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		host := fields[1]
		if i := strings.IndexByte(host, '%'); i >= 0 {
			host = host[:i] // a zone (fe80::1%eth0) is not kept
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			continue
		}
		out = append(out, netip.AddrPortFrom(a.Unmap(), 53))
	}
	return out, sc.Err()
}
