package framework

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the suite runs in CI, where missing prerequisites fail.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require skips the test when cond is false, or fails it in CI.
func Require(t testing.TB, cond bool, reason string) {
	t.Helper()
	if cond {
		return
	}
	if InCI() {
		t.Fatalf("prerequisite missing in CI: %s", reason)
	}
	t.Skipf("skipping: %s", reason)
}

// RequireRoot needs uid 0.
func RequireRoot(t testing.TB) { Require(t, os.Geteuid() == 0, "needs root") }

// KubectlPath returns a kubectl binary of a version ("" for /usr/bin/kubectl), skipping when absent.
func KubectlPath(t testing.TB, version string) string {
	t.Helper()
	p := "/usr/bin/kubectl"
	if version != "" {
		p = "/usr/lib/google-cloud-sdk/bin/kubectl." + version
	}
	if _, err := os.Stat(p); err != nil {
		if lp, err2 := exec.LookPath("kubectl"); err2 == nil && version == "" {
			return lp
		}
		Require(t, false, p+" not found")
	}
	return p
}
