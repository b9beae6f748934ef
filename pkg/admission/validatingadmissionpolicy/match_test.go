package validatingadmissionpolicy

import "testing"

func TestResourceMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, res, sub string
		want              bool
	}{
		{"*", "pods", "", true}, {"*", "pods", "status", false}, {"*/*", "pods", "status", true},
		{"pods", "pods", "", true}, {"pods", "pods", "status", false}, {"pods/*", "pods", "status", true},
		{"pods/*", "pods", "", true}, {"*/scale", "deployments", "scale", true}, {"*/scale", "deployments", "", false},
		{"pods/status", "pods", "status", true}, {"pods/status", "pods", "log", false}, {"pods", "services", "", false},
	} {
		if got := resourceMatches(c.pattern, c.res, c.sub); got != c.want {
			t.Errorf("resourceMatches(%q, %q, %q) = %v, want %v", c.pattern, c.res, c.sub, got, c.want)
		}
	}
}
