package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// `kubectl get -w` prints changes as they happen.
func TestKubectlGetWatch(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Run("create", "cm", "first")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Kubectl, "-n", s.Namespace, "get", "cm", "-w")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	framework.Eventually(t, 10*time.Second, func() error { return want(out.String(), "first") })
	s.Run("create", "cm", "second")
	framework.Eventually(t, 10*time.Second, func() error { return want(out.String(), "second") })
	s.Run("label", "cm", "second", "x=y")
	s.Run("delete", "cm", "first")
	framework.Eventually(t, 10*time.Second, func() error {
		if n := strings.Count(out.String(), "second"); n < 2 {
			return errf("saw %d lines for second:\n%s", n, out.String())
		}
		return nil
	})
	if strings.Count(out.String(), "NAME") != 1 {
		t.Fatalf("the header should print once:\n%s", out.String())
	}
}

type syncBuffer struct {
	mu  chanMutex
	buf bytes.Buffer
}

type chanMutex struct{ ch chan struct{} }

func (m *chanMutex) lock() {
	if m.ch == nil {
		m.ch = make(chan struct{}, 1)
	}
	m.ch <- struct{}{}
}
func (m *chanMutex) unlock() { <-m.ch }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.lock()
	defer b.mu.unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.lock()
	defer b.mu.unlock()
	return b.buf.String()
}
