// Package netnstest gives tests network namespaces of their own, so they can
// program nftables and send real packets without touching the host's network.
// Everything a test creates is removed when it ends, failed or not.
package netnstest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// Require skips a test that needs root and the ip and nft tools, or fails it
// when CI=true, where every test must run.
func Require(t testing.TB) {
	t.Helper()
	reason := ""
	switch {
	case os.Geteuid() != 0:
		reason = "needs root"
	default:
		for _, tool := range []string{"ip", "nft"} {
			if _, err := exec.LookPath(tool); err != nil {
				reason = tool + " not installed"
			}
		}
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing in CI: %s", reason)
	}
	t.Skip("skipping: " + reason)
}

var seq atomic.Int32

// NS is a network namespace.
type NS struct {
	Name string
	t    testing.TB
	fd   *os.File
}

// New creates a namespace with its loopback up; it is deleted when the test ends.
func New(t testing.TB, role string) *NS {
	t.Helper()
	name := fmt.Sprintf("mk8s-%s-%d-%d", role, os.Getpid()%100000, seq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name, t: t}
	t.Cleanup(func() {
		if ns.fd != nil {
			ns.fd.Close()
		}
		// Processes still inside keep the namespace alive; the test ends them.
		_ = exec.Command("ip", "netns", "del", name).Run()
	})
	ns.Run("ip", "link", "set", "lo", "up")
	return ns
}

// Fd is a descriptor of the namespace, for netlink sockets.
func (ns *NS) Fd() int {
	if ns.fd == nil {
		f, err := os.Open("/run/netns/" + ns.Name)
		if err != nil {
			ns.t.Fatalf("open namespace %s: %v", ns.Name, err)
		}
		ns.fd = f
	}
	return int(ns.fd.Fd())
}

// Wrap is the command prefix that runs a program in the namespace.
func (ns *NS) Wrap() []string { return []string{"ip", "netns", "exec", ns.Name} }

// Run runs a command in the namespace and fails the test if it fails.
func (ns *NS) Run(args ...string) string {
	ns.t.Helper()
	out, err := ns.Try(args...)
	if err != nil {
		ns.t.Fatalf("in %s: %s: %v: %s", ns.Name, strings.Join(args, " "), err, out)
	}
	return out
}

// Try runs a command in the namespace and returns its output and error.
func (ns *NS) Try(args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Start starts a long-running command in the namespace, killed when the test ends.
func (ns *NS) Start(args ...string) *exec.Cmd {
	ns.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name}, args...)...)
	if err := cmd.Start(); err != nil {
		ns.t.Fatalf("start %v in %s: %v", args, ns.Name, err)
	}
	ns.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// Link connects two namespaces with a veth pair and gives each end an
// address (CIDR notation); the pair goes with the namespaces.
func Link(t testing.TB, a *NS, aAddr string, b *NS, bAddr string) (aDev, bDev string) {
	t.Helper()
	n := seq.Add(1)
	aDev, bDev = fmt.Sprintf("va%d", n), fmt.Sprintf("vb%d", n)
	if out, err := exec.Command("ip", "link", "add", aDev, "netns", a.Name, "type", "veth", "peer", "name", bDev, "netns", b.Name).CombinedOutput(); err != nil {
		t.Fatalf("create veth pair: %v: %s", err, out)
	}
	a.Run("ip", "addr", "add", aAddr, "dev", aDev)
	a.Run("ip", "link", "set", aDev, "up")
	b.Run("ip", "addr", "add", bAddr, "dev", bDev)
	b.Run("ip", "link", "set", bDev, "up")
	return aDev, bDev
}

// Eventually retries f until it returns nil or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Do runs f on a thread inside the namespace. Sockets f creates stay in the
// namespace after it returns, so a listener or a connection made in Do can be
// used from any goroutine.
func (ns *NS) Do(f func()) {
	ns.t.Helper()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		runtime.LockOSThread()
		orig, e := netns.Get()
		if e != nil {
			err = e
			return
		}
		defer orig.Close()
		if e := netns.Set(netns.NsHandle(ns.Fd())); e != nil {
			err = e
			return
		}
		f()
		if e := netns.Set(orig); e != nil {
			// The thread is in the wrong namespace: let it die with the goroutine.
			err = e
			return
		}
		runtime.UnlockOSThread()
	}()
	<-done
	if err != nil {
		ns.t.Fatalf("enter namespace %s: %v", ns.Name, err)
	}
}
