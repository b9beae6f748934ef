package server

import (
	"strings"
	"testing"
)

func TestAuthorizationModes(t *testing.T) {
	valid := func(modes ...string) *Config {
		return &Config{DataDir: "/d", BindAddress: "127.0.0.1", ServiceCIDR: "10.96.0.0/12", ClusterCIDR: "10.244.0.0/16",
			AuthorizationModes: modes}
	}
	tests := []struct {
		name  string
		modes []string
		want  string
	}{
		{"upstream's default is valid", []string{"Node", "RBAC"}, ""},
		{"allowing every request is valid", []string{"AlwaysAllow"}, ""},
		{"no mode at all is refused", nil, "--authorization-mode must name at least one mode"},
		{"an unknown mode is refused", []string{"RBAC", "ABAC"}, `unknown mode "ABAC"`},
		{"a mode twice is refused", []string{"RBAC", "RBAC"}, "RBAC given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := valid(tt.modes...).Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestClusterDNSIP(t *testing.T) {
	tests := []struct {
		name       string
		serviceNet string
		dns        string
		want, err  string
	}{
		{"the default is the tenth address of the service CIDR", "10.96.0.0/12", "", "10.96.0.10", ""},
		{"a CIDR given by a host address counts from its network", "10.43.7.1/16", "", "10.43.0.10", ""},
		{"an IPv6 service CIDR gets its tenth address", "fd00:10:96::/112", "", "fd00:10:96::a", ""},
		{"--cluster-dns inside the CIDR is taken as it is", "10.96.0.0/12", "10.96.0.53", "10.96.0.53", ""},
		{"--cluster-dns outside the CIDR is refused", "10.96.0.0/12", "192.168.0.10", "", "is not an address in the service CIDR"},
		{"a CIDR too small for ten addresses is refused", "10.96.0.0/29", "", "", "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{ServiceCIDR: tt.serviceNet, ClusterDNS: tt.dns}
			ip, err := c.ClusterDNSIP()
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if err == nil && ip.String() != tt.want {
				t.Errorf("got %s, want %s", ip, tt.want)
			}
		})
	}
}

func TestDisable(t *testing.T) {
	c := &Config{DataDir: "/d", BindAddress: "127.0.0.1", ServiceCIDR: "10.96.0.0/12", ClusterCIDR: "10.244.0.0/16",
		AuthorizationModes: []string{"RBAC"}, ClusterDNSPort: 53, Disable: []string{"coredns", "traefik"}}
	if err := c.Validate(); err != nil {
		t.Fatalf("k3s' names should be accepted: %v", err)
	}
	if !c.Disabled("coredns") || c.Disabled("servicelb") {
		t.Error("Disabled should report exactly what --disable names")
	}
	c.Disable = []string{"kube-proxy"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `unknown component "kube-proxy"`) {
		t.Errorf("an unknown component should be refused, got %v", err)
	}
}
