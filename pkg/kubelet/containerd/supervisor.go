package containerd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/minik8s/minik8s/pkg/kubelet/cri"
)

// Restart back-off: doubled after each quick death, reset after a long run.
const (
	minBackoff  = 500 * time.Millisecond
	maxBackoff  = 30 * time.Second
	stableAfter = time.Minute
	// stopGrace is how long containerd gets to close its database on stop.
	stopGrace = 10 * time.Second
	// logLimit is the size past which the log is moved aside at a start.
	logLimit = 20 << 20
)

// Supervisor keeps one containerd running.
type Supervisor struct {
	cfg    Config
	binary string
	log    *slog.Logger

	ready     chan struct{}
	readyOnce sync.Once
}

// New checks cfg and finds the containerd executable.
func New(cfg Config, log *slog.Logger) (*Supervisor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bin := cfg.Binary
	if bin == "" {
		bin = "containerd"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("find containerd: %w", err)
	}
	return &Supervisor{cfg: cfg, binary: path, log: log.With("component", "containerd"), ready: make(chan struct{})}, nil
}

// Endpoint is the CRI endpoint of the supervised containerd.
func (s *Supervisor) Endpoint() string { return s.cfg.Endpoint() }

// CgroupDriver is the driver containerd was configured with.
func (s *Supervisor) CgroupDriver() CgroupDriver { return s.cfg.CgroupDriver }

// Ready is closed once containerd first answers a CRI call.
func (s *Supervisor) Ready() <-chan struct{} { return s.ready }

// WaitReady blocks until containerd first answers a CRI call or ctx ends.
func (s *Supervisor) WaitReady(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for containerd at %s: %w", s.cfg.Socket(), ctx.Err())
	}
}

// Run writes the configuration, starts containerd and restarts it whenever it
// dies, until ctx ends; then it stops containerd (not the containers) and
// returns nil. It returns an error only if containerd cannot be set up at all.
func (s *Supervisor) Run(ctx context.Context) error {
	if err := s.prepare(); err != nil {
		return err
	}
	client, err := cri.Dial(s.cfg.Endpoint(), cri.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer client.Close()

	delay := minBackoff
	for {
		logFile, err := openLog(s.cfg.LogFile(), logLimit)
		if err != nil {
			return err
		}
		p, err := startProcess(s.binary, s.cfg.ConfigFile(), logFile)
		logFile.Close() // the child has its own descriptor
		if err != nil {
			return fmt.Errorf("run containerd: %w", err)
		}
		started := time.Now()
		if err := os.WriteFile(s.cfg.pidFile(), []byte(strconv.Itoa(p.pid())+"\n"), 0o644); err != nil {
			s.log.Warn("cannot record containerd's pid", "err", err)
		}
		s.log.Info("containerd started", "pid", p.pid(), "socket", s.cfg.Socket(), "log", s.cfg.LogFile())

		if err := s.waitAnswering(ctx, client, p); err != nil && ctx.Err() == nil {
			s.log.Error("containerd did not become ready; killing it", "err", err, "log", logTail(s.cfg.LogFile(), 5))
			p.stop(0)
		}
		select {
		case <-ctx.Done():
			p.stop(stopGrace)
			_ = os.Remove(s.cfg.pidFile())
			s.log.Info("containerd stopped; containers keep running under their shims")
			return nil
		case <-p.exited:
		}
		s.log.Error("containerd exited", "pid", p.pid(), "status", p.waitErr, "ran", time.Since(started).Round(time.Millisecond),
			"restart_in", delay, "log", logTail(s.cfg.LogFile(), 5))
		if time.Since(started) > stableAfter {
			delay = minBackoff
		}
		select {
		case <-ctx.Done():
			_ = os.Remove(s.cfg.pidFile())
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, maxBackoff)
	}
}

// prepare makes the directories, writes the configuration and stops a
// containerd an earlier agent left behind.
func (s *Supervisor) prepare() error {
	for _, d := range []string{s.cfg.Dir, s.cfg.rootDir(), s.cfg.stateDir(), s.cfg.registryDir()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return fmt.Errorf("prepare containerd: %w", err)
		}
	}
	text, err := Render(s.cfg)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.cfg.ConfigFile(), text, 0o644); err != nil {
		return fmt.Errorf("prepare containerd: %w", err)
	}
	pid, err := stopStale(s.cfg.pidFile(), s.cfg.ConfigFile(), stopGrace)
	if err != nil {
		return fmt.Errorf("prepare containerd: %w", err)
	}
	if pid != 0 {
		s.log.Info("stopped the containerd an earlier agent left running", "pid", pid)
	}
	return nil
}

// waitAnswering polls the CRI Version call until it answers, the process
// exits, ctx ends or the ready timeout passes.
func (s *Supervisor) waitAnswering(ctx context.Context, client *cri.Client, p *process) error {
	deadline := time.NewTimer(s.cfg.readyTimeout())
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		v, err := client.Version(ctx)
		if err == nil {
			s.log.Info("containerd ready", "version", v.RuntimeVersion, "cri", v.RuntimeApiVersion,
				"cgroup_driver", s.cfg.CgroupDriver, "restrict_oom_score_adj", s.cfg.RestrictOOMScoreAdj)
			s.readyOnce.Do(func() { close(s.ready) })
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.exited:
			return errors.New("exited before answering")
		case <-deadline.C:
			return fmt.Errorf("no answer after %v: %w", s.cfg.readyTimeout(), lastErr)
		case <-tick.C:
		}
	}
}

// writeFileAtomic replaces file with data, never leaving a half-written file.
func writeFileAtomic(file string, data []byte, perm os.FileMode) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
