package containerd

import (
	"strings"
	"testing"
)

func validConfig() Config {
	return Config{
		Dir: "/var/lib/minik8s/agent/containerd", SandboxImage: "registry.k8s.io/pause:3.10.1",
		CgroupDriver: CgroupDriverCgroupfs, CNIBinDir: "/usr/lib/cni", CNIConfDir: "/var/lib/minik8s/agent/cni/net.d",
		StreamServerAddress: "127.0.0.1",
	}
}

func TestValidateRejectsWhatContainerdCannotRunWith(t *testing.T) {
	if err := (&Config{}).Validate(); err == nil {
		t.Error("the zero config validated")
	}
	good := validConfig()
	if err := good.Validate(); err != nil {
		t.Fatalf("a good config failed: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"a relative dir", func(c *Config) { c.Dir = "agent/containerd" }, "absolute"},
		{"a dir too long for a unix socket", func(c *Config) { c.Dir = "/" + strings.Repeat("d", 100) }, "too long"},
		{"an unknown cgroup driver", func(c *Config) { c.CgroupDriver = "cgroupv3" }, "cgroup driver"},
		{"no sandbox image", func(c *Config) { c.SandboxImage = "" }, "sandbox image"},
		{"a relative CNI conf dir", func(c *Config) { c.CNIConfDir = "net.d" }, "CNI conf dir"},
		{"a negative ready timeout", func(c *Config) { c.ReadyTimeout = -1 }, "ready timeout"},
	} {
		c := validConfig()
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func TestPathsAreUnderTheDir(t *testing.T) {
	c := validConfig()
	if got := c.Endpoint(); got != "unix:///var/lib/minik8s/agent/containerd/containerd.sock" {
		t.Errorf("endpoint %s", got)
	}
	if got := c.ConfigFile(); got != "/var/lib/minik8s/agent/containerd/config.toml" {
		t.Errorf("config file %s", got)
	}
}
