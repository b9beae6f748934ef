package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// /metrics/cadvisor is what upstream's kubelet serves from its embedded
// cAdvisor, limited to the series the stats provider measures: CPU and memory
// of each running container (and of the node, as cAdvisor's root cgroup "/"),
// start and last-seen times. Names, help texts and labels are cAdvisor's; the
// labels are those the kubelet gives them (container, pod, namespace, id = the
// cgroup, image, name = the runtime's container ID). Series cAdvisor reads
// from cgroup files the runtime does not report (user/system CPU, throttling,
// page cache, disk and network I/O, filesystems, pod-level cgroups) are left
// out rather than made up.

var cadvisorLabels = []string{"container", "id", "image", "name", "namespace", "pod"}

func cadvisorDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string{}, cadvisorLabels...), extra...), nil)
}

var (
	cadvisorCPUDesc        = cadvisorDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", "cpu")
	cadvisorMemUsageDesc   = cadvisorDesc("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed")
	cadvisorWorkingSetDesc = cadvisorDesc("container_memory_working_set_bytes", "Current working set in bytes.")
	cadvisorRSSDesc        = cadvisorDesc("container_memory_rss", "Size of RSS in bytes.")
	cadvisorSwapDesc       = cadvisorDesc("container_memory_swap", "Container swap usage in bytes.")
	cadvisorStartDesc      = cadvisorDesc("container_start_time_seconds", "Start time of the container since unix epoch in seconds.")
	cadvisorLastSeenDesc   = cadvisorDesc("container_last_seen", "Last time a container was seen by the exporter")
	cadvisorScrapeErrDesc  = prometheus.NewDesc("container_scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", nil, nil)
)

// cadvisorIdentity is what labels a container beyond the runtime's listing: its
// cgroup and image name, asked of the runtime once per container.
type cadvisorIdentity struct {
	cgroup string
	image  string
}

// cadvisorCollector builds the series from the stats provider's reading.
type cadvisorCollector struct {
	stats *statsProvider
	rt    Runtime
	now   func() time.Time

	mu         sync.Mutex
	identities map[string]cadvisorIdentity
}

func newCadvisorCollector(stats *statsProvider, rt Runtime) *cadvisorCollector {
	return &cadvisorCollector{stats: stats, rt: rt, now: time.Now, identities: map[string]cadvisorIdentity{}}
}

func (c *cadvisorCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cadvisorCPUDesc, cadvisorMemUsageDesc, cadvisorWorkingSetDesc, cadvisorRSSDesc,
		cadvisorSwapDesc, cadvisorStartDesc, cadvisorLastSeenDesc, cadvisorScrapeErrDesc} {
		ch <- d
	}
}

func (c *cadvisorCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	r, err := c.stats.read(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(cadvisorScrapeErrDesc, prometheus.GaugeValue, 1)
		return
	}
	now := c.now()
	c.collectRoot(ch, r, now)
	seen := map[string]bool{}
	for _, pr := range r.pods {
		for _, cr := range pr.containers {
			ctr := cr.container
			seen[ctr.Id] = true
			id := c.identity(ctx, ctr.Id, ctr.GetImage().GetImage())
			labels := []string{ctr.GetMetadata().GetName(), id.cgroup, id.image, ctr.Id, pr.ref.Namespace, pr.ref.Name}
			ch <- prometheus.MustNewConstMetric(cadvisorStartDesc, prometheus.GaugeValue, float64(time.Unix(0, ctr.CreatedAt).Unix()), labels...)
			ch <- stamped(now, cadvisorLastSeenDesc, prometheus.GaugeValue, float64(now.Unix()), labels...)
			if st := cr.stats; st != nil {
				collectCadvisorUsage(ch, st.GetCpu().GetUsageCoreNanoSeconds().GetValue(), stampOf(st.GetCpu().GetTimestamp(), now),
					memoryFigures{
						usage: criValue(st.GetMemory().GetUsageBytes()), workingSet: criValue(st.GetMemory().GetWorkingSetBytes()),
						rss: criValue(st.GetMemory().GetRssBytes()), swap: criValue(st.GetSwap().GetSwapUsageBytes()),
					}, stampOf(st.GetMemory().GetTimestamp(), now), labels)
			}
		}
	}
	c.forget(seen)
	ch <- prometheus.MustNewConstMetric(cadvisorScrapeErrDesc, prometheus.GaugeValue, 0)
}

// collectRoot reports the node as cAdvisor's root cgroup: id "/", the other
// labels empty; the same figures /stats/summary gives the node.
func (c *cadvisorCollector) collectRoot(ch chan<- prometheus.Metric, r *reading, now time.Time) {
	labels := []string{"", "/", "", "", "", ""}
	if !r.boot.IsZero() {
		ch <- prometheus.MustNewConstMetric(cadvisorStartDesc, prometheus.GaugeValue, float64(r.boot.Unix()), labels...)
	}
	ch <- stamped(now, cadvisorLastSeenDesc, prometheus.GaugeValue, float64(now.Unix()), labels...)
	var cpu uint64
	if r.nodeCPU != nil {
		cpu = *r.nodeCPU
	}
	var mem memoryFigures
	if m := r.nodeMem; m != nil {
		mem = memoryFigures{usage: m.UsageBytes, workingSet: m.WorkingSetBytes, rss: m.RSSBytes}
	}
	if s := r.nodeSwap; s != nil {
		mem.swap = s.SwapUsageBytes
	}
	collectCadvisorUsage(ch, cpu, r.at, mem, r.at, labels)
}

// memoryFigures are the memory series' values; nil is not measured.
type memoryFigures struct {
	usage, workingSet, rss, swap *uint64
}

// collectCadvisorUsage sends the CPU and memory series that were measured. As
// cAdvisor, a container that has used no CPU yet has no CPU series.
func collectCadvisorUsage(ch chan<- prometheus.Metric, cpu uint64, cpuAt time.Time, mem memoryFigures, memAt time.Time, labels []string) {
	if cpu > 0 {
		ch <- stamped(cpuAt, cadvisorCPUDesc, prometheus.CounterValue, seconds(cpu), append(append([]string{}, labels...), "total")...)
	}
	for _, m := range []struct {
		desc *prometheus.Desc
		v    *uint64
	}{{cadvisorMemUsageDesc, mem.usage}, {cadvisorWorkingSetDesc, mem.workingSet}, {cadvisorRSSDesc, mem.rss}, {cadvisorSwapDesc, mem.swap}} {
		if m.v != nil {
			ch <- stamped(memAt, m.desc, prometheus.GaugeValue, float64(*m.v), labels...)
		}
	}
}

// identity is a container's cgroup and image name, remembered once known. A
// runtime that cannot say yet leaves the cgroup empty and the image as listed,
// and is asked again at the next scrape.
func (c *cadvisorCollector) identity(ctx context.Context, id, listedImage string) cadvisorIdentity {
	c.mu.Lock()
	known, ok := c.identities[id]
	c.mu.Unlock()
	if ok {
		return known
	}
	fallback := cadvisorIdentity{image: listedImage}
	resp, err := c.rt.ContainerStatus(ctx, id, true)
	if err != nil {
		return fallback
	}
	ident := cadvisorIdentity{image: resp.GetStatus().GetImage().GetImage(), cgroup: cgroupOfInfo(resp.GetInfo()["info"], id)}
	if ident.image == "" {
		ident.image = listedImage
	}
	if ident.cgroup == "" {
		return ident
	}
	c.mu.Lock()
	c.identities[id] = ident
	c.mu.Unlock()
	return ident
}

// forget drops the identities of containers no longer running.
func (c *cadvisorCollector) forget(running map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.identities {
		if !running[id] {
			delete(c.identities, id)
		}
	}
}

// cgroupOfInfo reads the cgroup of a container from the runtime's verbose
// status (containerd's "info": the OCI spec's linux.cgroupsPath) and names it
// as cAdvisor does.
func cgroupOfInfo(info, id string) string {
	if info == "" {
		return ""
	}
	var v struct {
		RuntimeSpec struct {
			Linux struct {
				CgroupsPath string `json:"cgroupsPath"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	}
	if err := json.Unmarshal([]byte(info), &v); err != nil {
		return ""
	}
	return cadvisorCgroupName(v.RuntimeSpec.Linux.CgroupsPath)
}

// cadvisorCgroupName turns an OCI cgroupsPath into the cgroup's path in the
// hierarchy, which cAdvisor uses as the id label. With the cgroupfs driver the
// path is that already; with systemd it is "slice:prefix:name", which lives at
// the slice's nested path under the scope "prefix-name.scope".
func cadvisorCgroupName(path string) string {
	if path == "" || strings.HasPrefix(path, "/") {
		return path
	}
	parts := strings.Split(path, ":")
	if len(parts) != 3 {
		return ""
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	scope := name
	if !strings.HasSuffix(name, ".scope") && !strings.HasSuffix(name, ".slice") {
		if prefix != "" {
			scope = prefix + "-" + name + ".scope"
		} else {
			scope = name + ".scope"
		}
	}
	return expandSlice(slice) + "/" + scope
}

// expandSlice turns a systemd slice name into its path: "a-b.slice" lives in
// "/a.slice/a-b.slice"; "-.slice" is the root.
func expandSlice(slice string) string {
	base, ok := strings.CutSuffix(slice, ".slice")
	if !ok || base == "" || base == "-" {
		return ""
	}
	var b strings.Builder
	words := strings.Split(base, "-")
	for i := range words {
		b.WriteString("/" + strings.Join(words[:i+1], "-") + ".slice")
	}
	return b.String()
}

// stampOf is a CRI timestamp (nanoseconds) as a time, now when the runtime
// gave none.
func stampOf(ns int64, now time.Time) time.Time {
	if ns <= 0 {
		return now
	}
	return time.Unix(0, ns)
}

// criValue is a CRI figure as a pointer, nil when not measured.
func criValue(v *runtimeapi.UInt64Value) *uint64 {
	if v == nil {
		return nil
	}
	x := v.Value
	return &x
}
