package testimages

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needContainerd skips without root or containerd, ctr and runc; CI has them
// all and fails instead.
func needContainerd(t *testing.T) {
	t.Helper()
	missing := ""
	if os.Geteuid() != 0 {
		missing = "root"
	}
	for _, tool := range []string{"containerd", "ctr", "runc"} {
		if _, err := exec.LookPath(tool); err != nil && missing == "" {
			missing = tool + " (hack/install-deps.sh installs it)"
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("needs %s", missing)
	}
	t.Skipf("needs %s", missing)
}

// TestImagesImportAndRunInContainerd is the proof the tarballs are real images:
// a private containerd imports each and runs a container of it.
func TestImagesImportAndRunInContainerd(t *testing.T) {
	needContainerd(t)
	results := buildAll(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// A short directory: the socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartContainerd(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("clean up %s: %v", dir, err)
		}
	})
	for _, r := range results {
		if err := c.Import(ctx, r.File); err != nil {
			t.Fatalf("import %s: %v", r.File, err)
		}
	}
	list, err := c.Ctr(ctx, "images", "ls", "-q")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		for _, n := range r.Names {
			if !strings.Contains(list, n+"\n") {
				t.Errorf("containerd does not list %s after the import:\n%s", n, list)
			}
		}
	}

	for _, tc := range []struct {
		name  string
		image string
		argv  []string
		want  []string
	}{
		{"busybox echoes", "docker.io/library/busybox:1.36", []string{"echo", "hi"}, []string{"hi\n"}},
		{"busybox runs as root with a sticky /tmp", "docker.io/library/busybox:latest",
			[]string{"sh", "-c", "id; ls -ld /tmp; ls /usr/bin/env"}, []string{"uid=0(root) gid=0(root)", "drwxrwxrwt", "/usr/bin/env"}},
		{"the test server prints its usage", TestserverName, []string{"/testserver", "--help"}, []string{"usage: testserver"}},
		{"the test server serves its endpoints", TestserverName,
			[]string{"sh", "-c", "/testserver & sleep 1; wget -qO- 'http://127.0.0.1:8080/echo?msg=pong'; echo; wget -qO- http://127.0.0.1:8080/readyz; kill $!"},
			[]string{"pong\n", "ok\n"}},
		{"the nginx stand-in serves the welcome page", NginxName,
			[]string{"sh", "-c", "nginx -g 'daemon off;' & sleep 1; wget -qO- http://127.0.0.1/; kill $!"},
			[]string{"Welcome to nginx!"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Run(ctx, tc.image, tc.argv...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// Long-running entrypoints must stop on their stop signal with status 0.
	for _, tc := range []struct {
		name, image, signal string
	}{
		{"pause exits 0 on SIGTERM", "registry.k8s.io/pause:3.10.1", "SIGTERM"},
		{"the test server exits 0 on SIGTERM", TestserverName, "SIGTERM"},
		{"the nginx stand-in exits 0 on SIGQUIT", NginxName, "SIGQUIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runUntilSignal(ctx, t, c, tc.image, tc.signal)
		})
	}
}

// runUntilSignal starts the image's own command, signals it once it runs, and
// expects exit status 0.
func runUntilSignal(ctx context.Context, t *testing.T, c *Containerd, image, signal string) {
	t.Helper()
	id := fmt.Sprintf("sig-%d", time.Now().UnixNano())
	run := exec.CommandContext(ctx, "ctr", "--address", c.Socket, "--namespace", "k8s.io",
		"run", "--rm", "--runc-root", c.Dir+"/runc", image, id)
	var out strings.Builder
	run.Stdout, run.Stderr = &out, &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tasks, _ := c.Ctr(ctx, "tasks", "ls")
		if strings.Contains(tasks, id) && strings.Contains(tasks, "RUNNING") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never ran: %s", image, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let it install its signal handling
	if _, err := c.Ctr(ctx, "tasks", "kill", "--signal", signal, id); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s after %s: %v\n%s", image, signal, err, out.String())
		}
	case <-time.After(20 * time.Second):
		c.Ctr(ctx, "tasks", "kill", "--signal", "SIGKILL", id)
		t.Fatalf("%s did not stop within 20s of %s", image, signal)
	}
}
