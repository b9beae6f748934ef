package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// sandbox is a network namespace for one proxy: its rules touch nothing
// else, and it reaches the API server through a veth pair whose host end
// the server listens on.
type sandbox struct {
	name    string
	path    string
	hostIf  string
	hostIP  netip.Addr // the API server, seen from inside
	innerIP netip.Addr
}

// sandboxAddrs are the /30 networks of the veth pairs, one per proxy.
var sandboxAddrs = []netip.Addr{netip.MustParseAddr("10.255.77.0"), netip.MustParseAddr("10.255.77.4")}

func newSandbox(slot int) (*sandbox, error) {
	base := sandboxAddrs[slot].As4()
	host, inner := base, base
	host[3]++
	inner[3] += 2
	s := &sandbox{
		name:    fmt.Sprintf("mk8s-netbench-%d-%d", os.Getpid(), slot),
		hostIf:  fmt.Sprintf("nb%dh%d", os.Getpid()%100000, slot),
		hostIP:  netip.AddrFrom4(host),
		innerIP: netip.AddrFrom4(inner),
	}
	s.path = "/run/netns/" + s.name
	live.add(s)
	innerIf := strings.Replace(s.hostIf, "h", "n", 1)
	steps := [][]string{
		{"netns", "add", s.name},
		{"link", "add", s.hostIf, "type", "veth", "peer", "name", innerIf, "netns", s.name},
		{"addr", "add", s.hostIP.String() + "/30", "dev", s.hostIf},
		{"link", "set", s.hostIf, "up"},
		{"-n", s.name, "addr", "add", s.innerIP.String() + "/30", "dev", innerIf},
		{"-n", s.name, "link", "set", innerIf, "up"},
		{"-n", s.name, "link", "set", "lo", "up"},
	}
	for _, args := range steps {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			s.remove()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return s, nil
}

// remove deletes the namespace, with its rules and the veth pair.
func (s *sandbox) remove() {
	live.drop(s)
	_ = exec.Command("ip", "netns", "del", s.name).Run()
	_ = exec.Command("ip", "link", "del", s.hostIf).Run() // gone with the namespace unless that failed
}

// command runs name inside the namespace (`ip netns exec` execs it, so the
// process keeps the pid the bench measures).
func (s *sandbox) command(name string, args ...string) (string, []string) {
	return "ip", append([]string{"netns", "exec", s.name, name}, args...)
}

// sandboxes are the namespaces not yet removed, for a bench interrupted
// by a signal to remove them on its way out.
type sandboxes struct {
	mu  sync.Mutex
	set map[*sandbox]bool
}

var live = &sandboxes{set: map[*sandbox]bool{}}

func (l *sandboxes) add(s *sandbox) {
	l.mu.Lock()
	l.set[s] = true
	l.mu.Unlock()
}

func (l *sandboxes) drop(s *sandbox) {
	l.mu.Lock()
	delete(l.set, s)
	l.mu.Unlock()
}

func (l *sandboxes) removeAll() {
	l.mu.Lock()
	var all []*sandbox
	for s := range l.set {
		all = append(all, s)
	}
	l.mu.Unlock()
	for _, s := range all {
		s.remove()
	}
}
