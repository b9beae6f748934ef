package netpol

import (
	"errors"
	"fmt"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// Cleanup removes the enforcer's tables (both families) from the network
// namespace netns (0: the caller's). A missing table is fine. Every pod of
// the node is open again.
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
