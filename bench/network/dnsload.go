package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/minik8s/minik8s/bench/internal/proc"
)

// dnsImpl is one cluster DNS server, started on 127.0.0.1:port.
type dnsImpl struct {
	name  string
	start func(c *cluster, port int, logFile string) (*exec.Cmd, error)
	prof  profiler // off for programs without profiles
}

func minik8sDNS(binary string, prof profiler) dnsImpl {
	return dnsImpl{name: "minik8s", prof: prof, start: func(c *cluster, port int, logFile string) (*exec.Cmd, error) {
		own := filepath.Join(c.dir, "minik8s-dns")
		if _, err := os.Stat(own); err != nil {
			if err := proc.CopyExecutable(binary, own); err != nil {
				return nil, err
			}
		}
		args := []string{"dns", "--kubeconfig", c.kubeconfig, "--listen", "127.0.0.1:" + strconv.Itoa(port)}
		if prof.on() {
			args = append(args, "--profile-port", strconv.Itoa(prof.port))
		}
		return proc.Start(logFile, own, args...)
	}}
}

// coreDNS runs CoreDNS with kubeadm's kubernetes and cache plugins (no
// forward: only cluster names are asked).
func coreDNS(path string) dnsImpl {
	return dnsImpl{name: "coredns", start: func(c *cluster, port int, logFile string) (*exec.Cmd, error) {
		corefile := filepath.Join(c.dir, "Corefile")
		text := fmt.Sprintf(`.:%d {
    bind 127.0.0.1
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
`, port, c.kubeconfig)
		if err := os.WriteFile(corefile, []byte(text), 0o644); err != nil {
			return nil, err
		}
		return proc.Start(logFile, path, "-conf", corefile)
	}}
}

type dnsResult struct {
	target           string
	services         int
	inflight         int
	qps              float64
	p50, p99         time.Duration
	failed, lost     int
	cpuPerQuery      time.Duration
	clientCPUPercent float64
	rssMiB, peakMiB  float64
}

// measureDNS starts the server once the n Services exist, waits until it
// answers for the last one, warms it (and CoreDNS's cache) up, then loads it
// with each number of queries in flight for d.
func measureDNS(c *cluster, impl dnsImpl, n int, inflights []int, d time.Duration) ([]dnsResult, error) {
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	logFile := filepath.Join(c.dir, fmt.Sprintf("dns-%s-%d.log", impl.name, n))
	cmd, err := impl.start(c, port, logFile)
	if err != nil {
		return nil, err
	}
	defer proc.Stop(cmd)
	pid := cmd.Process.Pid
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	queries := make([][]byte, n)
	for i := range queries {
		m := new(mdns.Msg)
		m.SetQuestion(serviceName(i)+"."+benchNamespace+".svc.cluster.local.", mdns.TypeA)
		if queries[i], err = m.Pack(); err != nil {
			return nil, err
		}
	}
	if err := waitAnswer(addr, queries[n-1], 2*time.Minute, pid); err != nil {
		return nil, fmt.Errorf("%s: %w (log %s)", impl.name, err, logFile)
	}
	load(addr, queries, 64, 2*time.Second) // warm-up, not counted
	var out []dnsResult
	for _, inflight := range inflights {
		cpu0 := proc.CPU(pid)
		self0 := selfCPU()
		var profiled <-chan struct{}
		if impl.prof.on() {
			profiled = impl.prof.fetch("", fmt.Sprintf("dns-%d-%d", n, inflight), int(d/time.Second))
		}
		r := load(addr, queries, inflight, d)
		if profiled != nil {
			<-profiled
		}
		r.target, r.services = impl.name, n
		if ok := len(r.latencies); ok > 0 {
			r.cpuPerQuery = (proc.CPU(pid) - cpu0) / time.Duration(ok)
		}
		r.clientCPUPercent = 100 * float64(selfCPU()-self0) / float64(d)
		rss, peak, _ := proc.Memory(pid)
		r.rssMiB, r.peakMiB = float64(rss)/1024, float64(peak)/1024
		fmt.Fprintf(os.Stderr, "  %s DNS, %d services, %d in flight: %.0f queries/s, p50 %v, p99 %v, %d failed, %d lost, %v CPU/query, load generator %.0f%% CPU, RSS %.0f MiB\n",
			impl.name, n, inflight, r.qps, r.p50, r.p99, r.failed, r.lost, r.cpuPerQuery, r.clientCPUPercent, r.rssMiB)
		out = append(out, r.dnsResult)
	}
	if impl.prof.on() {
		impl.prof.heap("", fmt.Sprintf("dns-heap-%d", n))
	}
	return out, nil
}

type loadResult struct {
	dnsResult
	latencies []time.Duration
}

// load keeps inflight A queries outstanding for d, each from a UDP socket
// of its own, over the names in turn, and reports answered queries per
// second and latencies. An answer that is not NOERROR with an address
// counts as failed; one not back within a second, as lost.
func load(addr *net.UDPAddr, queries [][]byte, inflight int, d time.Duration) loadResult {
	var mu sync.Mutex
	var r loadResult
	r.inflight = inflight
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < inflight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			failed, lost := 0, 0
			defer func() {
				mu.Lock()
				r.latencies = append(r.latencies, lat...)
				r.failed += failed
				r.lost += lost
				mu.Unlock()
			}()
			conn, err := net.DialUDP("udp", nil, addr)
			if err != nil {
				failed++
				return
			}
			defer conn.Close()
			q := make([]byte, 512)
			buf := make([]byte, 4096)
			id := uint16(w * 251)
			for k := w; ; k += inflight {
				now := time.Now()
				if now.After(end) {
					return
				}
				src := queries[k%len(queries)]
				q = append(q[:0], src...)
				id++
				binary.BigEndian.PutUint16(q, id)
				if _, err := conn.Write(q); err != nil {
					failed++
					continue
				}
				_ = conn.SetReadDeadline(now.Add(time.Second))
				for {
					n, err := conn.Read(buf)
					if err != nil {
						lost++
						break
					}
					if n < 12 || binary.BigEndian.Uint16(buf) != id {
						continue // a late answer to an earlier query
					}
					if buf[3]&0x0f != 0 || binary.BigEndian.Uint16(buf[6:]) == 0 {
						failed++
					} else {
						lat = append(lat, time.Since(now))
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	if n := len(r.latencies); n > 0 {
		r.qps = float64(n) / elapsed.Seconds()
		r.p50, r.p99 = r.latencies[n/2], r.latencies[(n*99)/100]
	}
	return r
}

// waitAnswer asks q until the server answers it with an address.
func waitAnswer(addr *net.UDPAddr, q []byte, timeout time.Duration, pid int) error {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		if exited(pid) {
			return errors.New("the server exited")
		}
		conn, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			return err
		}
		_, _ = conn.Write(q)
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		conn.Close()
		if err == nil && n >= 12 && buf[3]&0x0f == 0 && binary.BigEndian.Uint16(buf[6:]) > 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer for the last Service after %s", timeout)
}

func freeUDPPort() (int, error) {
	for i := 0; i < 10; i++ {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		u.Close()
		t, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			t.Close()
			return port, nil
		}
	}
	return 0, errors.New("no port free for both UDP and TCP")
}

// selfCPU is the bench's own CPU time (the load generator's, during a load).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
