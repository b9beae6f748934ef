package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The bench reads the kernel's nftables state itself, over a netfilter
// netlink socket opened inside the proxy's network namespace, so the same
// probe serves both proxies: both name their ClusterIP map "service-ips",
// keyed by address . protocol . port.
const (
	nfnlSubsysNFTables = 10
	nftMsgNewRule      = 6
	nftMsgNewSetElem   = 12
	nftMsgGetSetElem   = 13
	nfnlgrpNFTables    = 7

	nftaSetElemListTable    = 1
	nftaSetElemListSet      = 2
	nftaSetElemListElements = 3
	nftaListElem            = 1
	nftaSetElemKey          = 1
	nftaDataValue           = 1
	nlaFNested              = 0x8000
)

// inNetNS runs fn on a thread that entered the namespace at path, then
// brings the thread back. A thread is never left to die in the namespace:
// the programs the bench starts get SIGKILL when the thread that forked
// them exits (Pdeathsig), and any thread may have forked one.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		h, err := netns.GetFromPath(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter %s: %w", path, err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked and goes with this goroutine
		errc <- err
	}()
	return <-errc
}

// netfilterSocket opens a NETLINK_NETFILTER socket in the namespace, joined
// to the multicast groups of the bitmask groups.
func netfilterSocket(nsPath string, groups uint32) (int, error) {
	fd := -1
	err := inNetNS(nsPath, func() error {
		s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
			unix.Close(s)
			return fmt.Errorf("bind netlink socket: %w", err)
		}
		fd = s
		return nil
	})
	return fd, err
}

func setRecvTimeout(fd int, d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// probe asks the kernel whether single elements are in a set: one request
// and one answer each, a few microseconds of kernel time, cheap enough to
// poll every few milliseconds without disturbing the proxy being measured.
type probe struct {
	fd  int
	seq uint32
	buf []byte
}

func newProbe(nsPath string) (*probe, error) {
	fd, err := netfilterSocket(nsPath, 0)
	if err != nil {
		return nil, err
	}
	if err := setRecvTimeout(fd, 2*time.Second); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &probe{fd: fd, buf: make([]byte, 1<<16)}, nil
}

func (p *probe) close() { unix.Close(p.fd) }

// hasService reports whether table's service-ips map holds ip . tcp . port.
func (p *probe) hasService(table string, ip netip.Addr, port uint16) (bool, error) {
	return p.hasElement(table, "service-ips", serviceKey(ip, port))
}

// serviceKey is the service-ips key of a TCP ClusterIP port: each field of
// a concatenated key takes whole 32-bit registers.
func serviceKey(ip netip.Addr, port uint16) []byte {
	a := ip.As4()
	return []byte{a[0], a[1], a[2], a[3], unix.IPPROTO_TCP, 0, 0, 0, byte(port >> 8), byte(port), 0, 0}
}

func (p *probe) hasElement(table, set string, key []byte) (bool, error) {
	p.seq++
	elem := attr(nftaListElem|nlaFNested, attr(nftaSetElemKey|nlaFNested, attr(nftaDataValue, key)))
	var body []byte
	body = append(body, unix.AF_INET, 0, 0, 0) // nfgenmsg: family, version, resource id
	body = append(body, attr(nftaSetElemListTable, cString(table))...)
	body = append(body, attr(nftaSetElemListSet, cString(set))...)
	body = append(body, attr(nftaSetElemListElements|nlaFNested, elem)...)
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], nfnlSubsysNFTables<<8|nftMsgGetSetElem)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(msg[8:], p.seq)
	msg = append(msg, body...)
	if err := unix.Sendto(p.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return false, fmt.Errorf("netlink send: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(p.fd, p.buf, 0)
		if err != nil {
			return false, fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(p.buf[:n])
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			if m.Header.Seq != p.seq {
				continue // an answer to an earlier request that timed out
			}
			if m.Header.Type == unix.NLMSG_ERROR {
				if len(m.Data) < 4 {
					return false, errors.New("short netlink error")
				}
				errno := unix.Errno(-int32(binary.NativeEndian.Uint32(m.Data)))
				if errno == 0 || errno == unix.ENOENT {
					return false, nil
				}
				return false, fmt.Errorf("get element of %s %s: %w", table, set, errno)
			}
			return m.Header.Type == nfnlSubsysNFTables<<8|nftMsgNewSetElem, nil
		}
	}
}

func attr(typ uint16, data []byte) []byte {
	l := unix.NLA_HDRLEN + len(data)
	out := make([]byte, 4, (l+3)&^3)
	binary.NativeEndian.PutUint16(out[0:], uint16(l))
	binary.NativeEndian.PutUint16(out[2:], typ)
	out = append(out, data...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

func cString(s string) []byte { return append([]byte(s), 0) }

// monitor listens to the nftables changes the kernel commits in a namespace
// and tells when a rule or set element holding a watched address is in. The
// kernel announces a transaction's objects only once it has committed it, so
// the moment the address shows up is the moment traffic can be sent to it.
type monitor struct {
	fd        int
	stop      atomic.Bool
	done      chan struct{}
	overflows atomic.Int64

	mu      sync.Mutex
	pattern []byte
	seen    chan time.Time
}

func newMonitor(nsPath string) (*monitor, error) {
	fd, err := netfilterSocket(nsPath, 1<<(nfnlgrpNFTables-1))
	if err != nil {
		return nil, err
	}
	// A big buffer: a Service's change is a few dozen messages, but a
	// periodic full resync of upstream's proxy announces the whole table.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20)
	if err := setRecvTimeout(fd, 200*time.Millisecond); err != nil {
		unix.Close(fd)
		return nil, err
	}
	m := &monitor{fd: fd, done: make(chan struct{})}
	go m.run()
	return m, nil
}

// watch arms the monitor for pattern (an address, a map key); the returned
// channel gets the time it is first seen in a rule or set element the
// kernel added.
func (m *monitor) watch(pattern []byte) <-chan time.Time {
	c := make(chan time.Time, 1)
	m.mu.Lock()
	m.pattern, m.seen = pattern, c
	m.mu.Unlock()
	return c
}

func (m *monitor) run() {
	defer close(m.done)
	buf := make([]byte, 1<<20)
	for !m.stop.Load() {
		n, _, err := unix.Recvfrom(m.fd, buf, 0)
		now := time.Now()
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				m.overflows.Add(1)
			}
			continue // a timeout lets the loop see stop
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		m.mu.Lock()
		pattern, seen := m.pattern, m.seen
		m.mu.Unlock()
		if seen == nil {
			continue
		}
		for _, msg := range msgs {
			t := msg.Header.Type
			if t>>8 != nfnlSubsysNFTables || (t&0xff != nftMsgNewRule && t&0xff != nftMsgNewSetElem) {
				continue
			}
			if bytes.Contains(msg.Data, pattern) {
				m.mu.Lock()
				if m.seen == seen {
					m.seen, m.pattern = nil, nil
					seen <- now
				}
				m.mu.Unlock()
				break
			}
		}
	}
}

func (m *monitor) close() {
	m.stop.Store(true)
	<-m.done
	unix.Close(m.fd)
}
