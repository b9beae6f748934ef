package testimages

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Containerd is a private containerd for checking images: its own config, root,
// state, socket and runc root under one directory, so it neither needs nor
// touches the system's containerd or the node agent's. Its CRI plugin is off.
type Containerd struct {
	Dir     string
	Socket  string
	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
}

const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q
`

// StartContainerd starts containerd with everything under dir and waits until it
// answers a version request. Needs root.
func StartContainerd(ctx context.Context, dir string) (*Containerd, error) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	// Unix socket paths are limited to 107 bytes; keep them short.
	if len(dir) > 80 {
		return nil, fmt.Errorf("start containerd: directory path %q too long for a socket path", dir)
	}
	c := &Containerd{Dir: dir, Socket: filepath.Join(dir, "containerd.sock"), exited: make(chan struct{})}
	for _, d := range []string{"root", "state", "runc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o711); err != nil {
			return nil, fmt.Errorf("start containerd: %w", err)
		}
	}
	cfg := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf(containerdConfig, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.Socket, c.Socket+".ttrpc")
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	if c.logFile, err = os.Create(filepath.Join(dir, "containerd.log")); err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	c.cmd = exec.Command(bin, "--config", cfg)
	c.cmd.Stdout, c.cmd.Stderr = c.logFile, c.logFile
	// Its own process group, and killed with us if we die first.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		c.logFile.Close()
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.Ctr(ctx, "version")
		if err == nil {
			return c, nil
		}
		select {
		case <-c.exited:
			return nil, fmt.Errorf("start containerd: exited early: %s", c.logTail())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.Stop()
			return nil, fmt.Errorf("start containerd: not answering after 30s: %w; log: %s", err, c.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Ctr runs ctr against this containerd in the k8s.io namespace, where the CRI
// looks for images.
func (c *Containerd) Ctr(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"--address", c.Socket, "--namespace", "k8s.io"}, args...)
	cmd := exec.CommandContext(ctx, "ctr", full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Import imports an image tarball.
func (c *Containerd) Import(ctx context.Context, file string) error {
	_, err := c.Ctr(ctx, "images", "import", file)
	return err
}

// Run runs a container of image to completion and returns its output. The
// container has a network namespace of its own with only loopback, so a server
// in it cannot clash with the host's ports. It is removed afterwards.
func (c *Containerd) Run(ctx context.Context, image string, argv ...string) (string, error) {
	id := fmt.Sprintf("check-%d-%d", os.Getpid(), time.Now().UnixNano())
	args := append([]string{"run", "--rm", "--runc-root", filepath.Join(c.Dir, "runc"), image, id}, argv...)
	return c.Ctr(ctx, args...)
}

// Stop stops containerd and every process it left (shims and containers), and
// unmounts what it mounted under its directory. The directory itself stays.
func (c *Containerd) Stop() {
	if c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	for _, pid := range c.leftoverShims() {
		// Killing a shim's process group takes its container with it.
		syscall.Kill(-pid, syscall.SIGKILL)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountUnder(c.Dir)
	c.logFile.Close()
}

// leftoverShims are containerd-shim processes started for this containerd:
// their command line names its socket.
func (c *Containerd) leftoverShims() []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.Contains(filepath.Base(args[0]), "containerd-shim") && strings.Contains(string(cmdline), c.Socket) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			points = append(points, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

func (c *Containerd) logTail() string {
	data, _ := os.ReadFile(c.logFile.Name())
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}
