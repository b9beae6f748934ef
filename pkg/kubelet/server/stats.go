package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	kubeletruntime "github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// The summary's types carry the JSON of upstream's stats/v1alpha1 API (what
// metrics-server and the API server's metrics read); only what the node can
// measure is filled in.

// Summary is the answer of /stats/summary.
type Summary struct {
	Node NodeStats  `json:"node"`
	Pods []PodStats `json:"pods"`
}

// NodeStats is the whole machine's usage.
type NodeStats struct {
	NodeName  string       `json:"nodeName"`
	StartTime metav1.Time  `json:"startTime"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
	Swap      *SwapStats   `json:"swap,omitempty"`
}

// PodStats is one pod's usage: the sum of its running containers'.
type PodStats struct {
	PodRef     PodReference     `json:"podRef"`
	StartTime  metav1.Time      `json:"startTime"`
	Containers []ContainerStats `json:"containers"`
	CPU        *CPUStats        `json:"cpu,omitempty"`
	Memory     *MemoryStats     `json:"memory,omitempty"`
	Swap       *SwapStats       `json:"swap,omitempty"`
}

// PodReference names a pod.
type PodReference struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	UID       string `json:"uid"`
}

// ContainerStats is one running container's usage.
type ContainerStats struct {
	Name      string       `json:"name"`
	StartTime metav1.Time  `json:"startTime"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
	Swap      *SwapStats   `json:"swap,omitempty"`
}

// CPUStats: UsageNanoCores is the rate over the last sample window, the
// cumulative UsageCoreNanoSeconds since the start.
type CPUStats struct {
	Time                 metav1.Time `json:"time"`
	UsageNanoCores       *uint64     `json:"usageNanoCores,omitempty"`
	UsageCoreNanoSeconds *uint64     `json:"usageCoreNanoSeconds,omitempty"`
}

// MemoryStats: WorkingSetBytes (usage less inactive file pages) is what
// `kubectl top` shows and what eviction counts.
type MemoryStats struct {
	Time            metav1.Time `json:"time"`
	AvailableBytes  *uint64     `json:"availableBytes,omitempty"`
	UsageBytes      *uint64     `json:"usageBytes,omitempty"`
	WorkingSetBytes *uint64     `json:"workingSetBytes,omitempty"`
	RSSBytes        *uint64     `json:"rssBytes,omitempty"`
	PageFaults      *uint64     `json:"pageFaults,omitempty"`
	MajorPageFaults *uint64     `json:"majorPageFaults,omitempty"`
}

// SwapStats: usage is what is swapped out, available what swap space is left
// (for a container, up to its limit).
type SwapStats struct {
	Time               metav1.Time `json:"time"`
	SwapAvailableBytes *uint64     `json:"swapAvailableBytes,omitempty"`
	SwapUsageBytes     *uint64     `json:"swapUsageBytes,omitempty"`
}

// NodeStatsSource measures the machine.
type NodeStatsSource interface {
	// CPU is the cumulative busy time of all cores.
	CPU() (coreNanoSeconds uint64, err error)
	Memory() (MemoryStats, error)
	BootTime() (time.Time, error)
}

// nodeSwapSource is a NodeStatsSource that also measures swap; the node's swap
// is reported only from one.
type nodeSwapSource interface {
	Swap() (SwapStats, error)
}

// Sampling: a background sample every sampleEvery keeps a rate ready for the
// first request; a request's rate is measured against the newest kept sample at
// least minWindow old, and kept samples are at least keepEvery apart.
const (
	sampleEvery = 10 * time.Second
	minWindow   = 500 * time.Millisecond
	keepEvery   = 5 * time.Second
	forgetAfter = 2 * time.Minute
)

type cpuSample struct {
	at    time.Time
	total uint64
}

type cpuHistory struct {
	newer, older cpuSample
	seen         time.Time
}

// statsProvider assembles summaries and remembers the CPU samples rates need.
type statsProvider struct {
	rt       Runtime
	node     NodeStatsSource
	nodeName string

	// now is the clock readings are stamped with.
	now func() time.Time

	mu  sync.Mutex
	cpu map[string]*cpuHistory
}

func newStatsProvider(rt Runtime, node NodeStatsSource, nodeName string) *statsProvider {
	return &statsProvider{rt: rt, node: node, nodeName: nodeName, now: time.Now, cpu: map[string]*cpuHistory{}}
}

// run samples until ctx ends.
func (p *statsProvider) run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		// Errors are the next request's to report; sampling only fills the history.
		_, _ = p.summary(ctx)
		p.forget(time.Now().Add(-forgetAfter))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observe records a cumulative CPU reading and returns the rate since an earlier
// one, nil when there is none old enough yet.
func (p *statsProvider) observe(key string, s cpuSample) *uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.cpu[key]
	if h == nil {
		h = &cpuHistory{}
		p.cpu[key] = h
	}
	h.seen = time.Now()
	var rate *uint64
	for _, base := range []cpuSample{h.newer, h.older} {
		dt := s.at.Sub(base.at)
		if base.at.IsZero() || dt < minWindow || s.total < base.total {
			continue
		}
		r := uint64(float64(s.total-base.total) / dt.Seconds())
		rate = &r
		break
	}
	if h.newer.at.IsZero() || s.at.Sub(h.newer.at) >= keepEvery {
		h.older, h.newer = h.newer, s
	}
	return rate
}

func (p *statsProvider) forget(before time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, h := range p.cpu {
		if h.seen.Before(before) {
			delete(p.cpu, k)
		}
	}
}

// reading is one look at the node and its running containers: what
// /stats/summary and the usage metrics are both built from, so they agree.
type reading struct {
	at   time.Time
	boot time.Time // zero when unknown
	// nodeCPU is the busy time of all cores, in core-nanoseconds.
	nodeCPU  *uint64
	nodeMem  *MemoryStats
	nodeSwap *SwapStats
	// pods are those with a ready sandbox, by namespace and name.
	pods []podReading
}

type podReading struct {
	ref   PodReference
	start time.Time
	// containers are the running ones, by name.
	containers []containerReading
}

type containerReading struct {
	container *runtimeapi.Container
	// stats is nil when the runtime has none for the container.
	stats *runtimeapi.ContainerStats
}

// read measures the node and lists its running containers with their usage now.
func (p *statsProvider) read(ctx context.Context) (*reading, error) {
	r := &reading{at: p.now()}
	if boot, err := p.node.BootTime(); err == nil {
		r.boot = boot
	}
	if total, err := p.node.CPU(); err == nil {
		r.nodeCPU = &total
	}
	if mem, err := p.node.Memory(); err == nil {
		mem.Time = metav1.NewTime(r.at)
		r.nodeMem = &mem
	}
	if src, ok := p.node.(nodeSwapSource); ok {
		if swap, err := src.Swap(); err == nil {
			swap.Time = metav1.NewTime(r.at)
			r.nodeSwap = &swap
		}
	}

	sandboxes, err := p.rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
	if err != nil {
		return nil, err
	}
	containers, err := p.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}})
	if err != nil {
		return nil, err
	}
	stats, err := p.rt.ListContainerStats(ctx, nil)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*runtimeapi.ContainerStats, len(stats))
	for _, st := range stats {
		byID[st.GetAttributes().GetId()] = st
	}
	pods := map[string]*podReading{}
	for _, sb := range sandboxes {
		uid := sb.Labels[kubeletruntime.LabelPodUID]
		if uid == "" {
			continue
		}
		if pr := pods[uid]; pr != nil && pr.start.UnixNano() >= sb.CreatedAt {
			continue
		}
		pods[uid] = &podReading{
			ref:   PodReference{Name: sb.GetMetadata().GetName(), Namespace: sb.GetMetadata().GetNamespace(), UID: uid},
			start: time.Unix(0, sb.CreatedAt),
		}
	}
	for _, c := range containers {
		if pr := pods[c.Labels[kubeletruntime.LabelPodUID]]; pr != nil {
			pr.containers = append(pr.containers, containerReading{container: c, stats: byID[c.Id]})
		}
	}
	for _, pr := range pods {
		sort.Slice(pr.containers, func(i, j int) bool {
			return pr.containers[i].container.GetMetadata().GetName() < pr.containers[j].container.GetMetadata().GetName()
		})
		r.pods = append(r.pods, *pr)
	}
	sort.Slice(r.pods, func(i, j int) bool {
		a, b := r.pods[i].ref, r.pods[j].ref
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return r, nil
}

// summary measures the node and its running containers now.
func (p *statsProvider) summary(ctx context.Context) (*Summary, error) {
	r, err := p.read(ctx)
	if err != nil {
		return nil, err
	}
	now := r.at
	sum := &Summary{Node: NodeStats{NodeName: p.nodeName, Memory: r.nodeMem, Swap: r.nodeSwap}, Pods: []PodStats{}}
	if !r.boot.IsZero() {
		sum.Node.StartTime = metav1.NewTime(r.boot)
	}
	if r.nodeCPU != nil {
		sum.Node.CPU = &CPUStats{Time: metav1.NewTime(now), UsageCoreNanoSeconds: r.nodeCPU,
			UsageNanoCores: p.observe("node", cpuSample{at: now, total: *r.nodeCPU})}
	}
	for _, pr := range r.pods {
		if len(pr.containers) == 0 {
			continue
		}
		ps := PodStats{PodRef: pr.ref, StartTime: metav1.NewTime(pr.start), Containers: []ContainerStats{}}
		for _, cr := range pr.containers {
			c := cr.container
			cs := ContainerStats{Name: c.GetMetadata().GetName(), StartTime: metav1.NewTime(time.Unix(0, c.CreatedAt))}
			if st := cr.stats; st != nil {
				cs.CPU = p.containerCPU(c.Id, st.GetCpu(), now)
				cs.Memory = containerMemory(st.GetMemory(), now)
				cs.Swap = containerSwap(st.GetSwap(), now)
			}
			ps.Containers = append(ps.Containers, cs)
		}
		ps.CPU, ps.Memory = podTotals(ps.Containers, now)
		ps.Swap = podSwap(ps.Containers, now)
		sum.Pods = append(sum.Pods, ps)
	}
	return sum, nil
}

func (p *statsProvider) containerCPU(id string, u *runtimeapi.CpuUsage, now time.Time) *CPUStats {
	if u == nil || u.UsageCoreNanoSeconds == nil {
		return nil
	}
	at := now
	if u.Timestamp > 0 {
		at = time.Unix(0, u.Timestamp)
	}
	total := u.UsageCoreNanoSeconds.Value
	return &CPUStats{Time: metav1.NewTime(at), UsageCoreNanoSeconds: &total,
		UsageNanoCores: p.observe(id, cpuSample{at: at, total: total})}
}

func containerMemory(u *runtimeapi.MemoryUsage, now time.Time) *MemoryStats {
	if u == nil || u.WorkingSetBytes == nil {
		return nil
	}
	at := now
	if u.Timestamp > 0 {
		at = time.Unix(0, u.Timestamp)
	}
	val := func(v *runtimeapi.UInt64Value) *uint64 {
		if v == nil {
			return nil
		}
		x := v.Value
		return &x
	}
	return &MemoryStats{Time: metav1.NewTime(at), WorkingSetBytes: val(u.WorkingSetBytes), UsageBytes: val(u.UsageBytes),
		AvailableBytes: val(u.AvailableBytes), RSSBytes: val(u.RssBytes), PageFaults: val(u.PageFaults),
		MajorPageFaults: val(u.MajorPageFaults)}
}

func containerSwap(u *runtimeapi.SwapUsage, now time.Time) *SwapStats {
	if u == nil || (u.SwapUsageBytes == nil && u.SwapAvailableBytes == nil) {
		return nil
	}
	at := now
	if u.Timestamp > 0 {
		at = time.Unix(0, u.Timestamp)
	}
	s := &SwapStats{Time: metav1.NewTime(at)}
	if u.SwapUsageBytes != nil {
		v := u.SwapUsageBytes.Value
		s.SwapUsageBytes = &v
	}
	if u.SwapAvailableBytes != nil {
		v := u.SwapAvailableBytes.Value
		s.SwapAvailableBytes = &v
	}
	return s
}

// podSwap adds up the containers' swap usage, when the runtime reports any.
func podSwap(cs []ContainerStats, now time.Time) *SwapStats {
	var used uint64
	have := false
	for _, c := range cs {
		if c.Swap != nil && c.Swap.SwapUsageBytes != nil {
			used += *c.Swap.SwapUsageBytes
			have = true
		}
	}
	if !have {
		return nil
	}
	return &SwapStats{Time: metav1.NewTime(now), SwapUsageBytes: &used}
}

// podTotals adds up the containers' usage; a rate is given only when every
// container has one, so a pod is never reported lower than it is.
func podTotals(cs []ContainerStats, now time.Time) (*CPUStats, *MemoryStats) {
	var cores, secs, ws, usage, rss uint64
	haveCores, haveCPU, haveMem := true, false, false
	for _, c := range cs {
		if c.CPU != nil {
			haveCPU = true
			if c.CPU.UsageCoreNanoSeconds != nil {
				secs += *c.CPU.UsageCoreNanoSeconds
			}
			if c.CPU.UsageNanoCores != nil {
				cores += *c.CPU.UsageNanoCores
			} else {
				haveCores = false
			}
		} else {
			haveCores = false
		}
		if c.Memory != nil {
			haveMem = true
			if c.Memory.WorkingSetBytes != nil {
				ws += *c.Memory.WorkingSetBytes
			}
			if c.Memory.UsageBytes != nil {
				usage += *c.Memory.UsageBytes
			}
			if c.Memory.RSSBytes != nil {
				rss += *c.Memory.RSSBytes
			}
		}
	}
	var cpu *CPUStats
	if haveCPU {
		cpu = &CPUStats{Time: metav1.NewTime(now), UsageCoreNanoSeconds: &secs}
		if haveCores {
			cpu.UsageNanoCores = &cores
		}
	}
	var mem *MemoryStats
	if haveMem {
		mem = &MemoryStats{Time: metav1.NewTime(now), WorkingSetBytes: &ws, UsageBytes: &usage, RSSBytes: &rss}
	}
	return cpu, mem
}

// serveSummary answers /stats/summary (GET, or POST as metrics-server sends it).
func (s *Server) serveSummary(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeText(w, http.StatusMethodNotAllowed, "only GET and POST are allowed")
		return
	}
	sum, err := s.stats.summary(r.Context())
	if err != nil {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("failed to get node info: %v", err))
		return
	}
	writeJSONBody(w, sum)
}

// procStats reads the machine's usage from /proc.
type procStats struct{ root string }

func (p procStats) path(name string) string {
	if p.root == "" {
		return "/proc/" + name
	}
	return p.root + "/" + name
}

// userHZ is the unit of /proc/stat's CPU times; Linux fixes it at 100 for userspace.
const userHZ = 100

// CPU adds up the busy columns of /proc/stat's "cpu" line: all but idle and iowait
// (guest time is already inside user).
func (p procStats) CPU() (uint64, error) {
	data, err := os.ReadFile(p.path("stat"))
	if err != nil {
		return 0, fmt.Errorf("read CPU times: %w", err)
	}
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0, errors.New("read CPU times: /proc/stat has no cpu line")
	}
	var ticks uint64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait, guest, guest_nice
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read CPU times: %w", err)
		}
		ticks += n
	}
	return ticks * (uint64(time.Second) / userHZ), nil
}

// BootTime is /proc/stat's btime.
func (p procStats) BootTime() (time.Time, error) {
	f, err := os.Open(p.path("stat"))
	if err != nil {
		return time.Time{}, fmt.Errorf("read boot time: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("read boot time: %w", err)
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, errors.New("read boot time: no btime in /proc/stat")
}

// Memory follows upstream's node figures: usage is what is not free, the
// working set is usage less inactive file pages, available is the rest.
func (p procStats) Memory() (MemoryStats, error) {
	info, err := readKeyValues(p.path("meminfo"), 1024)
	if err != nil {
		return MemoryStats{}, fmt.Errorf("read memory usage: %w", err)
	}
	total, free := info["MemTotal"], info["MemFree"]
	if total == 0 {
		return MemoryStats{}, errors.New("read memory usage: no MemTotal in meminfo")
	}
	usage := total - min(free, total)
	ws := usage - min(info["Inactive(file)"], usage)
	avail := total - ws
	rss := info["AnonPages"]
	m := MemoryStats{UsageBytes: &usage, WorkingSetBytes: &ws, AvailableBytes: &avail, RSSBytes: &rss}
	if vm, err := readKeyValues(p.path("vmstat"), 1); err == nil {
		pf, mpf := vm["pgfault"], vm["pgmajfault"]
		m.PageFaults, m.MajorPageFaults = &pf, &mpf
	}
	return m, nil
}

// Swap is swap space in use and free, from meminfo (zero and zero on a
// machine without swap).
func (p procStats) Swap() (SwapStats, error) {
	info, err := readKeyValues(p.path("meminfo"), 1024)
	if err != nil {
		return SwapStats{}, fmt.Errorf("read swap usage: %w", err)
	}
	total, ok := info["SwapTotal"]
	if !ok {
		return SwapStats{}, errors.New("read swap usage: no SwapTotal in meminfo")
	}
	free := min(info["SwapFree"], total)
	used := total - free
	return SwapStats{SwapUsageBytes: &used, SwapAvailableBytes: &free}, nil
}

// readKeyValues reads "key: value [kB]" or "key value" lines, values times unit.
func readKeyValues(path string, unit uint64) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		n, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			continue
		}
		out[strings.TrimSuffix(fields[0], ":")] = n * unit
	}
	return out, sc.Err()
}
