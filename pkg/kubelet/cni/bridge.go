package cni

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
)

// ensureBridge makes the bridge exist, hold gw and be up. It reports whether it
// created the bridge. The address is there before any pod, because it is the
// node's IP: components bind to it at start.
func ensureBridge(name string, gw *net.IPNet) (created bool, err error) {
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
			return false, fmt.Errorf("create bridge %s: %w", name, err)
		}
		created = true
		if link, err = netlink.LinkByName(name); err != nil {
			return created, fmt.Errorf("find bridge %s after creating it: %w", name, err)
		}
	case err != nil:
		return false, fmt.Errorf("find bridge %s: %w", name, err)
	case link.Type() != "bridge":
		return false, fmt.Errorf("%s exists and is a %s, not a bridge", name, link.Type())
	}

	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return created, fmt.Errorf("list addresses of %s: %w", name, err)
	}
	has := false
	for _, a := range addrs {
		if a.IP.Equal(gw.IP) {
			has = true
			break
		}
	}
	if !has {
		if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: gw}); err != nil {
			return created, fmt.Errorf("add %s to %s: %w", gw, name, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return created, fmt.Errorf("bring %s up: %w", name, err)
	}
	return created, nil
}

// deleteBridge removes the bridge; one already gone is not an error.
func deleteBridge(name string) error {
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", name, err)
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}
