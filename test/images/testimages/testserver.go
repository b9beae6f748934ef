package testimages

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/minik8s/minik8s/pkg/images"
)

// TestserverName is the name the test server image is imported under.
const TestserverName = "minik8s.io/testserver:latest"

// TestserverPort is the port the test server listens on unless $PORT says otherwise.
const TestserverPort = 8080

const testserverPackage = "github.com/minik8s/minik8s/test/images/testserver"

// buildTestserver compiles the test server as a static executable for GOARCH.
// It runs `go build` in the current directory, which must be inside this module
// (tests and `go run ./test/images` are).
func buildTestserver(ctx context.Context, goTool, workDir string) ([]byte, error) {
	out := filepath.Join(workDir, "testserver")
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, testserverPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w: %s", testserverPackage, err, bytes.TrimSpace(msg))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("testserver: %w", err)
	}
	if err := checkStatic(data); err != nil {
		return nil, fmt.Errorf("testserver: %w", err)
	}
	return data, nil
}

// testserverImage runs the test server on top of the busybox file system, so
// that tests can also exec a shell in its pods.
func testserverImage(base *images.Layer, binary []byte) *images.Image {
	l := images.NewLayer()
	l.File("testserver", 0o755, binary)
	return &images.Image{
		Names: []string{TestserverName},
		Config: images.Config{
			Entrypoint:   []string{"/testserver"},
			ExposedPorts: []string{fmt.Sprint(TestserverPort)},
			Labels:       map[string]string{labelBuiltFrom: testserverPackage},
		},
		Layers: []*images.Layer{base, l},
	}
}

// goTool returns the go command: the one in PATH, else the one of the
// toolchain this program was built with.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "/usr/local/go/bin/go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
