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
