package nft

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Backend applies transactions to the kernel.
type Backend interface {
	Apply(tx *Tx) error
	Name() string
}

// elementsPerMessage keeps one message's element list under netlink's 64 KiB
// attribute limit.
const elementsPerMessage = 512

// Netlink talks to nf_tables over a netlink socket: one batch per
// transaction, which the kernel applies all or nothing.
type Netlink struct {
	// NetNS is a network namespace file descriptor; 0 is the caller's.
	NetNS int
	mu    sync.Mutex
}

// Name implements Backend.
func (n *Netlink) Name() string { return "netlink" }

// Apply sends tx as one batch.
func (n *Netlink) Apply(tx *Tx) error {
	if tx.Empty() {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	size := 0
	for _, op := range tx.Ops {
		size += 256 + 96*len(op.Elements)
	}
	conn, err := nftables.New(nftables.WithNetNSFd(n.NetNS), nftables.WithSockOptions(func(c *netlink.Conn) error {
		// The whole batch goes in one message to be one transaction, and
		// every part is acknowledged: size the socket's buffers for it.
		return forceBuffers(c, size)
	}))
	if err != nil {
		return fmt.Errorf("open nftables netlink socket: %w", err)
	}
	table := &nftables.Table{Name: tx.Table, Family: nftables.TableFamily(tx.Family.nfproto())}
	sets := map[string]*nftables.Set{}
	setOf := func(s *Set) *nftables.Set {
		if ks, ok := sets[s.Name]; ok {
			return ks
		}
		ks := kernelSet(table, s)
		sets[s.Name] = ks
		return ks
	}
	for _, op := range tx.Ops {
		switch op.Kind {
		case OpAddTable:
			conn.AddTable(table)
		case OpDeleteTable:
			conn.DelTable(table)
		case OpAddChain:
			conn.AddChain(kernelChain(table, op.Chain))
		case OpFlushChain:
			conn.FlushChain(&nftables.Chain{Table: table, Name: op.Name})
		case OpDeleteChain:
			conn.DelChain(&nftables.Chain{Table: table, Name: op.Name})
		case OpAddRule:
			b := &builder{f: tx.Family}
			for _, e := range op.Rule.Exprs {
				e.build(b)
			}
			r := &nftables.Rule{Table: table, Chain: &nftables.Chain{Table: table, Name: op.Name}, Exprs: b.exprs}
			if op.Rule.Comment != "" {
				r.UserData = userdata.AppendString(nil, userdata.TypeComment, op.Rule.Comment)
			}
			conn.AddRule(r)
		case OpAddSet:
			if err := conn.AddSet(setOf(op.Set), nil); err != nil {
				return fmt.Errorf("add set %s: %w", op.Name, err)
			}
		case OpDeleteSet:
			conn.DelSet(setOf(op.Set))
		case OpAddElements, OpDeleteElements:
			ks := setOf(op.Set)
			for start := 0; start < len(op.Elements); start += elementsPerMessage {
				chunk := kernelElements(op.Elements[start:min(start+elementsPerMessage, len(op.Elements))], op.Kind == OpAddElements)
				if op.Kind == OpAddElements {
					err = conn.SetAddElements(ks, chunk)
				} else {
					err = conn.SetDeleteElements(ks, chunk)
				}
				if err != nil {
					return fmt.Errorf("elements of %s: %w", op.Name, err)
				}
			}
		}
	}
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("nftables transaction on %s %s: %w", tx.Family, tx.Table, err)
	}
	return nil
}

func kernelChain(t *nftables.Table, c *Chain) *nftables.Chain {
	kc := &nftables.Chain{Table: t, Name: c.Name}
	if c.Base != nil {
		prio := nftables.ChainPriority(c.Base.Priority)
		policy := nftables.ChainPolicyAccept
		kc.Type = nftables.ChainType(c.Base.Type)
		kc.Hooknum = nftables.ChainHookRef(nftables.ChainHook(c.Base.Hook.num()))
		kc.Priority = &prio
		kc.Policy = &policy
	}
	return kc
}

func kernelSet(t *nftables.Table, s *Set) *nftables.Set {
	ks := &nftables.Set{Table: t, Name: s.Name, KeyType: datatype(s.Key), Concatenation: len(s.Key) > 1,
		Comment: s.Comment}
	switch {
	case s.Verdict:
		ks.IsMap, ks.DataType = true, nftables.TypeVerdict
	case len(s.Data) > 0:
		ks.IsMap, ks.DataType = true, datatype(s.Data)
	}
	if s.Timeout > 0 {
		ks.HasTimeout, ks.Dynamic, ks.Timeout = true, true, s.Timeout
	}
	return ks
}

func kernelElements(elems []Element, withData bool) []nftables.SetElement {
	out := make([]nftables.SetElement, len(elems))
	for i, e := range elems {
		ke := nftables.SetElement{Key: encode(e.Key)}
		if withData {
			ke.Comment = e.Comment
			switch {
			case e.Verdict != nil:
				ke.VerdictData = &expr.Verdict{Kind: e.Verdict.Kind, Chain: e.Verdict.Chain}
			case len(e.Data) > 0:
				ke.Val = encode(e.Data)
			}
		}
		out[i] = ke
	}
	return out
}

// forceBuffers sets the socket's buffers to at least size bytes, past the
// system maximum (root may), as nft does for large batches.
func forceBuffers(c *netlink.Conn, size int) error {
	size = max(size, 4<<20)
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for _, opt := range []int{unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE} {
			if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, size); e != nil {
				serr = errors.Join(serr, os.NewSyscallError("setsockopt", e))
			}
		}
	})
	runtime.KeepAlive(c)
	if err != nil {
		return err
	}
	return serr
}

func nftablesConn(netns int) (*nftables.Conn, error) {
	conn, err := nftables.New(nftables.WithNetNSFd(netns))
	if err != nil {
		return nil, fmt.Errorf("open nftables netlink socket: %w", err)
	}
	return conn, nil
}

// ListChains returns the names of the table's chains; a missing table has none.
func ListChains(netns int, f Family, table string) ([]string, error) {
	conn, err := nftablesConn(netns)
	if err != nil {
		return nil, err
	}
	chains, err := conn.ListChainsOfTableFamily(nftables.TableFamily(f.nfproto()))
	if err != nil {
		return nil, fmt.Errorf("list nftables chains: %w", err)
	}
	var names []string
	for _, c := range chains {
		if c.Table.Name == table {
			names = append(names, c.Name)
		}
	}
	return names, nil
}
