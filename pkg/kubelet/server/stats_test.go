package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestObserveRates(t *testing.T) {
	p := newStatsProvider(nil, procStats{}, "n")
	t0 := time.Unix(1000, 0)
	if r := p.observe("c", cpuSample{at: t0, total: 0}); r != nil {
		t.Fatalf("a first sample has a rate: %d", *r)
	}
	// Too soon after the only sample: no rate yet.
	if r := p.observe("c", cpuSample{at: t0.Add(100 * time.Millisecond), total: 1e8}); r != nil {
		t.Fatalf("rate over 100ms: %d", *r)
	}
	// Half a core for two seconds.
	r := p.observe("c", cpuSample{at: t0.Add(2 * time.Second), total: 1e9})
	if r == nil || *r != 5e8 {
		t.Fatalf("rate %v, want 5e8", r)
	}
	// A sample kept 6s in: the next request measures against it, not t0.
	p.observe("c", cpuSample{at: t0.Add(6 * time.Second), total: 3e9})
	r = p.observe("c", cpuSample{at: t0.Add(8 * time.Second), total: 5e9})
	if r == nil || *r != 1e9 {
		t.Fatalf("rate %v, want 1e9", r)
	}
	// Right after a kept sample, the older one gives the window.
	r = p.observe("c", cpuSample{at: t0.Add(6*time.Second + 100*time.Millisecond), total: 3e9 + 1e8})
	if r == nil || *r == 0 {
		t.Fatalf("rate %v right after a kept sample", r)
	}
	p.forget(time.Now().Add(time.Minute))
	if len(p.cpu) != 0 {
		t.Fatal("forget kept samples")
	}
}

func TestProcStats(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", "cpu  100 5 50 1000 20 3 2 1 7 0\ncpu0 1 2 3 4\nbtime 1700000000\n")
	write("meminfo", "MemTotal:       1000 kB\nMemFree:         400 kB\nMemAvailable:    700 kB\nInactive(file):  100 kB\nAnonPages:       200 kB\nSwapTotal:       300 kB\nSwapFree:        250 kB\n")
	write("vmstat", "pgfault 42\npgmajfault 3\n")
	p := procStats{root: dir}
	cpu, err := p.CPU()
	if err != nil {
		t.Fatal(err)
	}
	// user+nice+system+irq+softirq+steal = 161 ticks of 10ms.
	if cpu != 161*uint64(10*time.Millisecond) {
		t.Fatalf("cpu %d", cpu)
	}
	boot, err := p.BootTime()
	if err != nil || boot.Unix() != 1700000000 {
		t.Fatalf("boot %v %v", boot, err)
	}
	m, err := p.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if *m.UsageBytes != 600*1024 || *m.WorkingSetBytes != 500*1024 || *m.AvailableBytes != 500*1024 ||
		*m.RSSBytes != 200*1024 || *m.PageFaults != 42 || *m.MajorPageFaults != 3 {
		t.Fatalf("memory %+v", m)
	}
	swap, err := p.Swap()
	if err != nil || *swap.SwapUsageBytes != 50*1024 || *swap.SwapAvailableBytes != 250*1024 {
		t.Fatalf("swap %+v %v", swap, err)
	}
}

func TestPodTotals(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	cs := []ContainerStats{
		{Name: "a", CPU: &CPUStats{UsageNanoCores: u(10), UsageCoreNanoSeconds: u(100)}, Memory: &MemoryStats{WorkingSetBytes: u(1000)}},
		{Name: "b", CPU: &CPUStats{UsageNanoCores: u(5), UsageCoreNanoSeconds: u(50)}, Memory: &MemoryStats{WorkingSetBytes: u(500)}},
	}
	cpu, mem := podTotals(cs, time.Now())
	if *cpu.UsageNanoCores != 15 || *cpu.UsageCoreNanoSeconds != 150 || *mem.WorkingSetBytes != 1500 {
		t.Fatalf("totals %+v %+v", cpu, mem)
	}
	cs[1].CPU.UsageNanoCores = nil
	if cpu, _ := podTotals(cs, time.Now()); cpu.UsageNanoCores != nil {
		t.Fatal("a pod with a container lacking a rate has a rate")
	}
}
