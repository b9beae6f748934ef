package cni

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// The CNI plugins (bridge's ipMasq, portmap, firewall) add iptables chains
// and jumps to them. A pod's own rules go when its sandbox is torn down, but
// the plugins' shared chains stay for good. HostRules finds and removes those
// for a node being taken down (and tests), by comparing with a snapshot taken
// before the node first ran.

var (
	ruleTools  = []string{"iptables", "ip6tables"}
	ruleTables = []string{"nat", "filter", "mangle"}
)

// HostRules records which iptables chains and nftables tables exist.
type HostRules struct {
	chains    map[string]bool // "iptables nat CHAIN"
	nftTables map[string]bool // "ip nat"
}

// SnapshotRules records the host's chains and tables now.
func SnapshotRules(ctx context.Context) (*HostRules, error) {
	h := &HostRules{chains: map[string]bool{}, nftTables: map[string]bool{}}
	for _, tool := range ruleTools {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		for _, table := range ruleTables {
			rules, err := listRules(ctx, tool, table)
			if err != nil {
				return nil, err
			}
			for _, c := range chainsOf(rules) {
				h.chains[tool+" "+table+" "+c] = true
			}
		}
	}
	tables, err := nftTables(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		h.nftTables[t] = true
	}
	return h, nil
}

// RemoveAdded deletes the chains made since the snapshot, the jumps into them
// from older chains, and then the nftables tables (iptables-nft's) made since
// that hold no rule. It returns what it removed ("iptables nat CNI-HOSTPORT-DNAT",
// "nft table ip nat"), keeps going past errors and returns them all.
func (h *HostRules) RemoveAdded(ctx context.Context) ([]string, error) {
	var removed []string
	var errs []error
	for _, tool := range ruleTools {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		for _, table := range ruleTables {
			chains, err := h.removeAddedChains(ctx, tool, table)
			if err != nil {
				errs = append(errs, err)
			}
			for _, c := range chains {
				removed = append(removed, tool+" "+table+" "+c)
			}
		}
	}
	tables, err := nftTables(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range tables {
		if h.nftTables[t] {
			continue
		}
		n, err := nftRuleCount(ctx, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n == 0 {
			if _, err := run(ctx, "nft", append([]string{"delete", "table"}, strings.Fields(t)...)...); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, "nft table "+t)
			}
		}
	}
	return removed, errors.Join(errs...)
}

func (h *HostRules) removeAddedChains(ctx context.Context, tool, table string) ([]string, error) {
	rules, err := listRules(ctx, tool, table)
	if err != nil {
		return nil, err
	}
	added := map[string]bool{}
	for _, c := range chainsOf(rules) {
		if !h.chains[tool+" "+table+" "+c] {
			added[c] = true
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	var errs []error
	// Jumps from chains that stay into chains that go.
	for _, r := range rules {
		args := splitRule(r)
		if len(args) < 2 || args[0] != "-A" || added[args[1]] || !added[ruleTarget(args)] {
			continue
		}
		args[0] = "-D"
		if _, err := run(ctx, tool, append([]string{"-w", "-t", table}, args...)...); err != nil {
			errs = append(errs, err)
		}
	}
	// Flush all before deleting any: they may jump to each other.
	for c := range added {
		if _, err := run(ctx, tool, "-w", "-t", table, "-F", c); err != nil {
			errs = append(errs, err)
		}
	}
	var removed []string
	for c := range added {
		if _, err := run(ctx, tool, "-w", "-t", table, "-X", c); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, c)
		}
	}
	sort.Strings(removed)
	return removed, errors.Join(errs...)
}

func listRules(ctx context.Context, tool, table string) ([]string, error) {
	out, err := run(ctx, tool, "-w", "-t", table, "-S")
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSpace(out), "\n"), nil
}

// chainsOf returns the user chains ("-N NAME") of an iptables -S listing.
func chainsOf(rules []string) []string {
	var chains []string
	for _, r := range rules {
		if name, ok := strings.CutPrefix(r, "-N "); ok {
			chains = append(chains, strings.TrimSpace(name))
		}
	}
	return chains
}

// ruleTarget is the chain a rule jumps or goes to, if any.
func ruleTarget(args []string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-j" || args[i] == "-g" {
			return args[i+1]
		}
	}
	return ""
}

// splitRule splits a line of iptables -S into arguments; iptables quotes
// arguments with spaces (comments) in double quotes with backslash escapes.
func splitRule(line string) []string {
	var args []string
	var cur strings.Builder
	inQuote, escaped, have := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && inQuote:
			escaped = true
		case r == '"':
			inQuote = !inQuote
			have = true
		case r == ' ' && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// nftTables lists the nftables tables as "family name".
func nftTables(ctx context.Context) ([]string, error) {
	if _, err := exec.LookPath("nft"); err != nil {
		return nil, nil
	}
	out, err := run(ctx, "nft", "list", "tables")
	if err != nil {
		return nil, err
	}
	var tables []string
	for _, line := range strings.Split(out, "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "table "); ok {
			tables = append(tables, t)
		}
	}
	return tables, nil
}

// nftRuleCount counts the rules in one table ("ip nat").
func nftRuleCount(ctx context.Context, table string) (int, error) {
	out, err := run(ctx, "nft", append([]string{"-j", "list", "table"}, strings.Fields(table)...)...)
	if err != nil {
		return 0, err
	}
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return 0, fmt.Errorf("read nft listing of %s: %w", table, err)
	}
	n := 0
	for _, obj := range doc.Nftables {
		if _, ok := obj["rule"]; ok {
			n++
		}
	}
	return n, nil
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}
