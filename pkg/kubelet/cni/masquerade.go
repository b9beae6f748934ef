package cni

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// nodeRules are the pod network's node-wide packet rules, in an nftables table of
// their own: pods' traffic leaving the pod range is masqueraded (what the bridge
// plugin's ipMasq does per pod). Where iptables' FORWARD policy drops (Docker sets
// DROP), allowForward adds accept rules there, since an accept in another table
// cannot overrule that policy.
func (c *Config) nodeRulesTable() string { return "minik8s-" + c.BridgeName }

func (c *Config) nodeRules() (string, error) {
	subnet, err := c.subnet()
	if err != nil {
		return "", err
	}
	t := c.nodeRulesTable()
	var b strings.Builder
	// Declaring then deleting makes the script replace the table whether or not it exists.
	fmt.Fprintf(&b, "table ip %s {}\ndelete table ip %s\n", t, t)
	fmt.Fprintf(&b, "table ip %s {\n", t)
	fmt.Fprintf(&b, "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n")
	fmt.Fprintf(&b, "    ip saddr %s ip daddr != %s ip daddr != 224.0.0.0/4 masquerade\n  }\n}\n", subnet, subnet)
	return b.String(), nil
}

// setNodeRules installs the rules (idempotently).
func (c *Config) setNodeRules() error {
	script, err := c.nodeRules()
	if err != nil {
		return err
	}
	return runNft(script)
}

// deleteNodeRules removes the table and any FORWARD accept rules; missing ones are fine.
func (c *Config) deleteNodeRules() error {
	t := c.nodeRulesTable()
	err := runNft(fmt.Sprintf("table ip %s {}\ndelete table ip %s\n", t, t))
	if subnet, serr := c.subnet(); serr == nil {
		for _, dir := range []string{"-s", "-d"} {
			for exec.Command("iptables", forwardRule("-D", dir, subnet.String(), c.BridgeName)...).Run() == nil {
			}
		}
	}
	return err
}

// allowForward accepts pod traffic in iptables' FORWARD chain when its policy drops.
func (c *Config) allowForward() error {
	out, err := exec.Command("iptables", "-S", "FORWARD").Output()
	if err != nil || !strings.Contains(string(out), "-P FORWARD DROP") {
		return nil
	}
	subnet, err := c.subnet()
	if err != nil {
		return err
	}
	for _, dir := range []string{"-s", "-d"} {
		if exec.Command("iptables", forwardRule("-C", dir, subnet.String(), c.BridgeName)...).Run() == nil {
			continue
		}
		if out, err := exec.Command("iptables", forwardRule("-I", dir, subnet.String(), c.BridgeName)...).CombinedOutput(); err != nil {
			return fmt.Errorf("iptables: %v: %s", err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

func forwardRule(op, dir, subnet, bridge string) []string {
	args := []string{op, "FORWARD", dir, subnet, "-m", "comment", "--comment", "minik8s pod network " + bridge, "-j", "ACCEPT"}
	if op == "-I" {
		args = append([]string{op, "FORWARD", "1"}, args[2:]...)
	}
	return args
}

func runNft(script string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}
