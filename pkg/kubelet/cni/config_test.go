package cni

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testConfig() Config {
	return Config{NetworkName: "minik8s", BridgeName: "cni0", PodCIDR: "10.244.0.0/24",
		Dir: "/var/lib/minik8s/agent/cni", BinDir: "/usr/lib/cni"}
}

func TestConflistMatchesTheGoldenFile(t *testing.T) {
	c := testConfig()
	got, err := c.Conflist()
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/10-minik8s.conflist"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("conflist differs from %s:\n%s", golden, got)
	}
}

func TestTheGatewayIsTheFirstAddressOfThePodCIDR(t *testing.T) {
	for cidr, want := range map[string]string{
		"10.244.0.0/24": "10.244.0.1/24",
		"10.244.3.0/24": "10.244.3.1/24",
		"172.16.0.0/16": "172.16.0.1/16",
	} {
		c := testConfig()
		c.PodCIDR = cidr
		gw, err := c.Gateway()
		if err != nil {
			t.Fatal(err)
		}
		if gw.String() != want {
			t.Errorf("gateway of %s = %s, want %s", cidr, gw, want)
		}
	}
}

func TestValidateRejectsNetworksThePluginsCannotBuild(t *testing.T) {
	good := testConfig()
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"a bridge name longer than the kernel allows", func(c *Config) { c.BridgeName = "a-very-long-bridge" }, "bridge name"},
		{"a pod CIDR with host bits", func(c *Config) { c.PodCIDR = "10.244.0.1/24" }, "host bits"},
		{"an IPv6 pod CIDR", func(c *Config) { c.PodCIDR = "fd00::/64" }, "IPv4"},
		{"a pod CIDR with no room for pods", func(c *Config) { c.PodCIDR = "10.244.0.0/31" }, "too small"},
		{"a pod CIDR that is not one", func(c *Config) { c.PodCIDR = "10.244.0.0" }, "pod CIDR"},
		{"a network name with a slash", func(c *Config) { c.NetworkName = "a/b" }, "network name"},
		{"a relative dir", func(c *Config) { c.Dir = "cni" }, "absolute"},
	} {
		c := testConfig()
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}
