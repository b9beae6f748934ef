package framework

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Session is a user at a terminal: one kubectl version, one namespace.
type Session struct {
	T         testing.TB
	C         *Cluster
	Kubectl   string
	Namespace string
}

// NewSession makes a namespace for the test and deletes it afterwards.
func NewSession(t testing.TB, c *Cluster, kubectl string) *Session {
	t.Helper()
	name := "e2e-" + strings.ToLower(regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(t.Name(), "-"))
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.TrimSuffix(name, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%100000)
	s := &Session{T: t, C: c, Kubectl: kubectl, Namespace: name}
	s.Run("create", "namespace", name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Kubectl(ctx, kubectl, "", "delete", "namespace", name, "--wait=false")
	})
	return s
}

// Do runs kubectl in the session's namespace and returns whatever happened.
func (s *Session) Do(args ...string) Result { return s.DoIn("", args...) }

// DoIn runs kubectl with stdin.
func (s *Session) DoIn(stdin string, args ...string) Result {
	s.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := args
	if s.Namespace != "" && !hasNamespaceFlag(args) {
		full = append([]string{"-n", s.Namespace}, args...)
	}
	return s.C.Kubectl(ctx, s.Kubectl, stdin, full...)
}

func hasNamespaceFlag(args []string) bool {
	for _, a := range args {
		if a == "-n" || a == "--namespace" || strings.HasPrefix(a, "--namespace=") || a == "-A" || a == "--all-namespaces" {
			return true
		}
	}
	return false
}

// Run runs kubectl and fails the test unless it succeeds; it returns stdout.
func (s *Session) Run(args ...string) string {
	s.T.Helper()
	r := s.Do(args...)
	if r.Code != 0 {
		s.T.Fatalf("kubectl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Apply pipes a manifest into `kubectl <verb> -f -`.
func (s *Session) Apply(manifest string, args ...string) string {
	s.T.Helper()
	r := s.DoIn(manifest, append([]string{"apply", "-f", "-"}, args...)...)
	if r.Code != 0 {
		s.T.Fatalf("kubectl apply %v: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Fail runs kubectl, expects it to fail, and returns stderr.
func (s *Session) Fail(args ...string) string {
	s.T.Helper()
	r := s.Do(args...)
	if r.Code == 0 {
		s.T.Fatalf("kubectl %s: expected failure, got success\nstdout: %s", strings.Join(args, " "), r.Stdout)
	}
	return r.Stderr
}

// Eventually retries f until it returns nil or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not true after %s: %v", timeout, err)
}

// Contains fails unless out contains every want.
func Contains(t testing.TB, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
}

// Matches fails unless out matches the regular expression.
func Matches(t testing.TB, out, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(out) {
		t.Fatalf("output does not match %q:\n%s", re, out)
	}
}
