package nft

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Command applies transactions by piping their script to `nft -f -`, which
// also applies a whole script as one transaction.
type Command struct {
	// Wrap, if set, prefixes the command (["ip", "netns", "exec", "ns1"]).
	Wrap []string
}

// Name implements Backend.
func (c *Command) Name() string { return "nft -f" }

// Apply runs nft on the transaction's script.
func (c *Command) Apply(tx *Tx) error {
	if tx.Empty() {
		return nil
	}
	return c.Run(tx.Script())
}

// Run feeds a script to nft.
func (c *Command) Run(script string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(append([]string{}, c.Wrap...), "nft", "-f", "-")
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return fmt.Errorf("nft -f: %v: %s", err, msg)
	}
	return nil
}

// Available reports why nftables cannot be used here, or nil: the kernel
// must answer nf_tables requests (a netlink list of tables).
func Available(netns int) error {
	conn, err := nftablesConn(netns)
	if err != nil {
		return err
	}
	if _, err := conn.ListTables(); err != nil {
		return fmt.Errorf("the kernel does not answer nftables requests (nf_tables missing or no CAP_NET_ADMIN): %w", err)
	}
	return nil
}
