package containerd

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/minik8s/minik8s/pkg/images"
)

// CgroupDriver is how runc places containers in cgroups; the kubelet's pod
// cgroups must be made the same way.
type CgroupDriver string

const (
	// CgroupDriverCgroupfs writes the cgroup file system directly.
	CgroupDriverCgroupfs CgroupDriver = "cgroupfs"
	// CgroupDriverSystemd asks systemd for scopes and slices.
	CgroupDriverSystemd CgroupDriver = "systemd"
)

// maxSocketPath is the longest path a unix socket address holds (sun_path less its NUL).
const maxSocketPath = 107

// Config says how to run containerd.
type Config struct {
	// Dir holds everything of this containerd: config.toml, root/, state/, the
	// socket, its log and pid file (<data-dir>/agent/containerd).
	Dir string
	// Binary is the containerd executable; empty looks up "containerd" in PATH.
	Binary string
	// SandboxImage is the pause image of pod sandboxes.
	SandboxImage string
	// CgroupDriver must match the kubelet's.
	CgroupDriver CgroupDriver
	// RestrictOOMScoreAdj keeps containers' oom_score_adj no lower than
	// containerd's own, for hosts that withhold CAP_SYS_RESOURCE (runc fails to
	// set a negative value there).
	RestrictOOMScoreAdj bool
	// CNIBinDir holds the CNI plugin executables; CNIConfDir the network conflist.
	CNIBinDir  string
	CNIConfDir string
	// StreamServerAddress is the IP exec, attach and port-forward streams are
	// served on; its port is chosen at random so nodes on one host do not clash.
	StreamServerAddress string
	// ReadyTimeout is how long a start may take to answer CRI calls before it
	// is killed and started again; zero means DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// DefaultReadyTimeout bounds a containerd start; a cold start with the CRI plugin
// takes about a second here.
const DefaultReadyTimeout = 60 * time.Second

// DefaultConfig is the configuration for a node agent whose state is under
// agentDir, with the cgroup driver and OOM restriction chosen for this host.
// The caller still sets the CNI directories.
func DefaultConfig(agentDir string) Config {
	return Config{
		Dir:                 filepath.Join(agentDir, "containerd"),
		SandboxImage:        images.PauseImageName,
		CgroupDriver:        DetectCgroups().Driver(),
		RestrictOOMScoreAdj: !CanLowerOOMScoreAdj(),
		StreamServerAddress: "127.0.0.1",
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("containerd dir %q must be an absolute path", c.Dir)
	}
	// The ttrpc socket is the longest path containerd binds.
	if n := len(c.Socket() + ".ttrpc"); n > maxSocketPath {
		return fmt.Errorf("containerd dir %q is too long: its socket path would be %d bytes, at most %d fit", c.Dir, n, maxSocketPath)
	}
	if c.SandboxImage == "" {
		return errors.New("containerd sandbox image must be set")
	}
	switch c.CgroupDriver {
	case CgroupDriverCgroupfs, CgroupDriverSystemd:
	default:
		return fmt.Errorf("containerd cgroup driver %q: want %q or %q", c.CgroupDriver, CgroupDriverCgroupfs, CgroupDriverSystemd)
	}
	for name, dir := range map[string]string{"CNI bin dir": c.CNIBinDir, "CNI conf dir": c.CNIConfDir} {
		if !filepath.IsAbs(dir) {
			return fmt.Errorf("containerd %s %q must be an absolute path", name, dir)
		}
	}
	if c.StreamServerAddress == "" {
		return errors.New("containerd stream server address must be set")
	}
	if c.ReadyTimeout < 0 {
		return fmt.Errorf("containerd ready timeout %v must not be negative", c.ReadyTimeout)
	}
	return nil
}

// Socket is containerd's gRPC socket, where the CRI is served.
func (c *Config) Socket() string { return filepath.Join(c.Dir, "containerd.sock") }

// Endpoint is the CRI endpoint of this containerd, as kubelet flags spell it.
func (c *Config) Endpoint() string { return "unix://" + c.Socket() }

// ConfigFile is the rendered containerd configuration.
func (c *Config) ConfigFile() string { return filepath.Join(c.Dir, "config.toml") }

// LogFile receives containerd's output.
func (c *Config) LogFile() string { return filepath.Join(c.Dir, "containerd.log") }

func (c *Config) rootDir() string     { return filepath.Join(c.Dir, "root") }
func (c *Config) stateDir() string    { return filepath.Join(c.Dir, "state") }
func (c *Config) pidFile() string     { return filepath.Join(c.Dir, "containerd.pid") }
func (c *Config) registryDir() string { return filepath.Join(c.Dir, "certs.d") }
func (c *Config) readyTimeout() time.Duration {
	if c.ReadyTimeout == 0 {
		return DefaultReadyTimeout
	}
	return c.ReadyTimeout
}
