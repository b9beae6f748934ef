package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/cri"
	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The runtime floor: the same pods started straight through CRI on the node's own
// containerd (its generated config, CNI network and imported images), with neither
// the API server nor the agent in the path. Nothing minik8s does can make a pod
// start sooner than this, so it is the yardstick for the agent's figures.

// cpuTicks is the machine's busy time so far, in clock ticks (USER_HZ, 100 a second).
func cpuTicks() int64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	var busy int64
	// user nice system idle iowait irq softirq steal guest guest_nice: busy is all
	// but idle and iowait, less steal (another guest's) and guest time (already in user).
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 7 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return busy
}

// perPod is CPU ticks shared out over pods.
func perPod(ticks int64, pods int) time.Duration {
	return time.Duration(ticks) * 10 * time.Millisecond / time.Duration(pods)
}

// floorResult is what runtimeFloor measured.
type floorResult struct {
	lat        []time.Duration
	cpuPerPod  time.Duration
	pods       int
	containerd time.Duration // containerd's own CPU per pod (children excluded)
}

// runtimeFloor starts containerd with the config the agent wrote, runs rounds of n
// pods through CRI, and stops it again.
func runtimeFloor(ctx context.Context, agentDir, logFile string, n, rounds int) (*floorResult, error) {
	dir := filepath.Join(agentDir, "agent", "containerd")
	sock := filepath.Join(dir, "containerd.sock")
	cd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	if err := start(cd, logFile); err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	defer func() {
		stop(cd)
		framework.KillShims(sock)
	}()
	rt, err := cri.Dial(sock, cri.Options{Timeout: 2 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	for i := 0; ; i++ {
		if _, err := rt.Version(ctx); err == nil {
			break
		} else if i == 100 {
			return nil, fmt.Errorf("containerd not ready: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	logDir := filepath.Join(agentDir, "floor-logs")
	res := &floorResult{}
	var cpu, cdCPU int64
	for r := 0; r < rounds; r++ {
		cd0, busy0 := procTicks(cd.Process.Pid), cpuTicks()
		lat, ids, err := floorRound(ctx, rt, logDir, r, n)
		cpu += cpuTicks() - busy0
		cdCPU += procTicks(cd.Process.Pid) - cd0
		for _, id := range ids {
			_ = rt.StopPodSandbox(ctx, id)
			_ = rt.RemovePodSandbox(ctx, id)
		}
		if err != nil {
			return nil, err
		}
		res.lat = append(res.lat, lat...)
		res.pods += n
	}
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	res.cpuPerPod = perPod(cpu, res.pods)
	res.containerd = perPod(cdCPU, res.pods)
	return res, nil
}

// floorRound starts n pods (sandbox, then one busybox container) at once and
// returns each one's time until StartContainer returned, and the sandboxes made.
func floorRound(ctx context.Context, rt *cri.Client, logDir string, round, n int) ([]time.Duration, []string, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var ids []string
	var firstErr error
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("floor-%d-%d", round, i)
			sb := &runtimeapi.PodSandboxConfig{
				Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "bench", Uid: name},
				Hostname:     name,
				LogDirectory: filepath.Join(logDir, name),
				Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
					NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
				}},
			}
			begin := time.Now()
			err := os.MkdirAll(sb.LogDirectory, 0o755)
			var id string
			if err == nil {
				id, err = rt.RunPodSandbox(ctx, sb, "")
			}
			if id != "" {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
			var cid string
			if err == nil {
				cid, err = rt.CreateContainer(ctx, id, &runtimeapi.ContainerConfig{
					Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
					Image:    &runtimeapi.ImageSpec{Image: "docker.io/library/busybox:1.36"},
					Command:  []string{"sleep", "3600"},
					LogPath:  "c/0.log",
					Linux:    &runtimeapi.LinuxContainerConfig{},
				}, sb)
			}
			if err == nil {
				err = rt.StartContainer(ctx, cid)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			lat = append(lat, time.Since(begin))
		}(i)
	}
	wg.Wait()
	return lat, ids, firstErr
}

// procTicks is a process's own CPU time (user+system), in clock ticks.
func procTicks(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the 14th and 15th.
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}
