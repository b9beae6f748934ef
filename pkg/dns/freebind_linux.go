package dns

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// freebind lets a socket bind an address the host does not have yet: the
// node address on the pod bridge appears when the node agent sets up its
// network, which may come after the DNS server starts.
func freebind(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
