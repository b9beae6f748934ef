// Command proxy measures how fast the service proxy programs the kernel:
// the whole table for N Services × M endpoints, and one endpoint change
// after that, through netlink transactions (github.com/google/nftables,
// the proxy's default) and through `nft -f` scripts. It works in a network
// namespace of its own, which it removes at the end. Run as root:
//
//	go run ./bench/proxy -services 1000,10000 -endpoints 10
//
// Time is wall-clock time from the first byte of the transaction to the
// kernel's answer, including building it from the proxy's state. CPU is the
// process's user and system time (system time includes the kernel's work on
// a netlink batch) plus, for `nft -f`, that of the nft children.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
	"github.com/minik8s/minik8s/pkg/proxy/rules"

	"github.com/vishvananda/netns"
)

func main() {
	servicesFlag := flag.String("services", "1000", "Service counts, comma-separated")
	endpoints := flag.Int("endpoints", 10, "endpoints per Service")
	fulls := flag.Int("full", 3, "full syncs per backend (the median is shown)")
	changes := flag.Int("changes", 50, "single-endpoint changes per backend")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	backends := flag.String("backends", "netlink,nft -f", "backends to measure")
	flag.Parse()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if os.Geteuid() != 0 {
		fatal(errors.New("must run as root (it creates a network namespace)"))
	}
	var counts []int
	for _, s := range strings.Split(*servicesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad -services %q", s))
		}
		counts = append(counts, n)
	}
	name := fmt.Sprintf("mk8s-bench-proxy-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		fatal(fmt.Errorf("ip netns add: %v: %s", err, out))
	}
	defer func() { _ = exec.Command("ip", "netns", "del", name).Run() }()
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())

	fmt.Printf("%-9s %-9s %-10s %12s %12s %14s %14s %10s\n", "services", "endpoints", "backend", "full (wall)", "full (CPU)",
		"change p50", "change p99", "change CPU")
	for _, n := range counts {
		for _, b := range []struct {
			name string
			b    nft.Backend
		}{
			{"netlink", &nft.Netlink{NetNS: fd}},
			{"nft -f", inNetNS{fd: fd, cmd: &nft.Command{}}},
		} {
			if !strings.Contains(*backends, b.name) {
				continue
			}
			r, err := run(b.b, n, *endpoints, *fulls, *changes)
			if err != nil {
				fatal(fmt.Errorf("%s, %d services: %w", b.name, n, err))
			}
			fmt.Printf("%-9d %-9d %-10s %12s %12s %14s %14s %10s\n", n, *endpoints, b.name, r.full.Round(time.Millisecond),
				r.fullCPU.Round(time.Millisecond), r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond),
				r.changeCPU.Round(10*time.Microsecond))
		}
	}
}

type result struct {
	full, fullCPU       time.Duration
	p50, p99, changeCPU time.Duration
}

// run installs n Services with m endpoints each, then changes one endpoint
// of a Service at a time.
func run(b nft.Backend, n, m, fulls, changes int) (result, error) {
	cfg := &rules.Config{Family: nft.IPv4, Table: "minik8s-proxy", MasqueradeBit: 14,
		LocalCIDR: netip.MustParsePrefix("10.244.0.0/24"), LocalhostNodePorts: true}
	var r result
	var fullTimes, fullCPUs []time.Duration
	var state *rules.State
	var ports []*rules.ServicePort
	for i := 0; i < fulls; i++ {
		state = rules.NewState(cfg)
		ports = ports[:0]
		for s := 0; s < n; s++ {
			sp := servicePort(s)
			ports = append(ports, sp)
			state.Set(sp.Name.String(), rules.Service(cfg, sp, endpointsOf(s, m, 0)))
		}
		cpu0, start := cpuTime(), time.Now()
		if err := b.Apply(state.Full()); err != nil {
			return r, err
		}
		fullTimes = append(fullTimes, time.Since(start))
		fullCPUs = append(fullCPUs, cpuTime()-cpu0)
	}
	r.full, r.fullCPU = median(fullTimes), median(fullCPUs)

	var times []time.Duration
	now := time.Unix(1000, 0)
	cpu0 := cpuTime()
	for i := 0; i < changes; i++ {
		s := (i * 7919) % n
		now = now.Add(10 * time.Millisecond)
		start := time.Now()
		state.Set(ports[s].Name.String(), rules.Service(cfg, ports[s], endpointsOf(s, m, i+1)))
		if err := b.Apply(state.Changes(now)); err != nil {
			return r, err
		}
		times = append(times, time.Since(start))
	}
	r.changeCPU = (cpuTime() - cpu0) / time.Duration(changes)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	r.p50, r.p99 = times[len(times)/2], times[(len(times)*99)/100]
	return r, b.Apply(nft.Delete(cfg.Family, cfg.Table))
}

// servicePort is Service s: a ClusterIP in 10.96/12, every tenth a NodePort.
func servicePort(s int) *rules.ServicePort {
	sp := &rules.ServicePort{Name: rules.ServicePortName{Namespace: "bench", Name: "svc-" + strconv.Itoa(s), Port: "http",
		Protocol: corev1.ProtocolTCP}, ClusterIP: netip.AddrFrom4([4]byte{10, byte(96 + s>>16), byte(s >> 8), byte(s)}), Port: 80}
	if s%10 == 0 && s/10 < 2768 {
		sp.NodePort = uint16(30000 + s/10)
	}
	return sp
}

// endpointsOf are Service s's m endpoints in generation gen: each change
// replaces the first endpoint with a new address.
func endpointsOf(s, m, gen int) []rules.Endpoint {
	out := make([]rules.Endpoint, m)
	for j := range out {
		k := s*m + j
		if j == 0 {
			k = s*m + gen*7 // a different first endpoint each generation
		}
		out[j] = rules.Endpoint{Addr: netip.AddrFrom4([4]byte{10, byte(128 + (k>>16)&63), byte(k >> 8), byte(k)}), Port: 8080,
			Ready: true, Serving: true}
	}
	return out
}

// inNetNS runs nft inside the namespace: the command starts from a thread
// that entered it, so nothing but nft itself is timed (no `ip netns exec`).
type inNetNS struct {
	fd  int
	cmd *nft.Command
}

func (b inNetNS) Name() string { return b.cmd.Name() }

func (b inNetNS) Apply(tx *nft.Tx) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread is dropped, not reused: it stays in the namespace
		if err := netns.Set(netns.NsHandle(b.fd)); err != nil {
			errc <- err
			return
		}
		errc <- b.cmd.Apply(tx)
	}()
	return <-errc
}

// cpuTime is the user and system time of this process and its waited-for children.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(children.Utime) + tv(children.Stime)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration{}, ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench/proxy:", err)
	os.Exit(1)
}
