package proxy

import (
	"errors"
	"fmt"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// Cleanup removes the proxy's tables (both families) from the network
// namespace netns (0: the caller's), as `kube-proxy --cleanup` does. A
// missing table is fine. Services stop answering on this node.
func Cleanup(netns int, table string) error {
	if table == "" {
		table = DefaultTable
	}
	if err := nft.Available(netns); err != nil {
		return err
	}
	b := &nft.Netlink{NetNS: netns}
	var errs []error
	for _, f := range []nft.Family{nft.IPv4, nft.IPv6} {
		if err := b.Apply(nft.Delete(f, table)); err != nil {
			errs = append(errs, fmt.Errorf("delete %s table %s: %w", f, table, err))
		}
	}
	return errors.Join(errs...)
}
