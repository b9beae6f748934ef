package proxy

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// udpFlow selects UDP conntrack entries: by original destination address
// (unset: any) and port, and by the reply's source (the endpoint; unset: any).
type udpFlow struct {
	OrigDst     netip.Addr
	OrigDstPort uint16
	ReplySrc    netip.Addr
	V6          bool
}

// Conntrack deletes conntrack entries.
type Conntrack interface {
	// ClearUDP deletes the UDP entries each flow selects.
	ClearUDP(flows []udpFlow) error
}

// NetlinkConntrack talks to the kernel's conntrack over netlink.
type NetlinkConntrack struct {
	// NetNS is a network namespace descriptor; 0 is the caller's.
	NetNS int
}

// ClearUDP implements Conntrack.
func (c *NetlinkConntrack) ClearUDP(flows []udpFlow) error {
	if len(flows) == 0 {
		return nil
	}
	var h *netlink.Handle
	var err error
	if c.NetNS != 0 {
		h, err = netlink.NewHandleAt(netns.NsHandle(c.NetNS), unix.NETLINK_NETFILTER)
	} else {
		h, err = netlink.NewHandle(unix.NETLINK_NETFILTER)
	}
	if err != nil {
		return fmt.Errorf("open conntrack netlink socket: %w", err)
	}
	defer h.Close()
	var v4, v6 []netlink.CustomConntrackFilter
	for _, f := range flows {
		filter := &netlink.ConntrackFilter{}
		if err := filter.AddProtocol(unix.IPPROTO_UDP); err != nil {
			return err
		}
		if f.OrigDst.IsValid() {
			if err := filter.AddIP(netlink.ConntrackOrigDstIP, net.IP(f.OrigDst.AsSlice())); err != nil {
				return err
			}
		}
		if err := filter.AddPort(netlink.ConntrackOrigDstPort, f.OrigDstPort); err != nil {
			return err
		}
		if f.ReplySrc.IsValid() {
			if err := filter.AddIP(netlink.ConntrackReplySrcIP, net.IP(f.ReplySrc.AsSlice())); err != nil {
				return err
			}
		}
		if f.is6() {
			v6 = append(v6, filter)
		} else {
			v4 = append(v4, filter)
		}
	}
	if len(v4) > 0 {
		if _, err := h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, v4...); err != nil {
			return fmt.Errorf("delete IPv4 UDP conntrack entries: %w", err)
		}
	}
	if len(v6) > 0 {
		if _, err := h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET6, v6...); err != nil {
			return fmt.Errorf("delete IPv6 UDP conntrack entries: %w", err)
		}
	}
	return nil
}

func (f udpFlow) is6() bool { return f.V6 }
