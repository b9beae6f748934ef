package containerd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/cri"
)

// The test binary doubles as a fake containerd: run with fakeEnv set, it reads
// the gRPC address from the --config it is given and answers CRI Version there.
const (
	fakeEnv = "MINIK8S_FAKE_CONTAINERD"
	// fakeCrashFirst makes the first start exit shortly after it answered.
	fakeCrashFirst = "crash-first"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeContainerd(mode))
	}
	os.Exit(m.Run())
}

type fakeRuntime struct {
	runtimeapi.UnimplementedRuntimeServiceServer
}

func (fakeRuntime) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{RuntimeName: "fake", RuntimeVersion: "0.0", RuntimeApiVersion: "v1"}, nil
}

func fakeContainerd(mode string) int {
	if len(os.Args) != 3 || os.Args[1] != "--config" {
		fmt.Fprintln(os.Stderr, "fake containerd: want --config FILE, got", os.Args[1:])
		return 2
	}
	text, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m := regexp.MustCompile(`\[grpc\]\s*address = "([^"]+)"`).FindSubmatch(text)
	if m == nil {
		fmt.Fprintln(os.Stderr, "fake containerd: no grpc address in config")
		return 1
	}
	sock := string(m[1])
	// Count starts in a file beside the socket, so the test can see restarts.
	starts := filepath.Join(filepath.Dir(sock), "starts")
	data, _ := os.ReadFile(starts)
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	n++
	_ = os.WriteFile(starts, []byte(strconv.Itoa(n)), 0o644)

	_ = os.Remove(sock)
	lis, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, fakeRuntime{})
	fmt.Println("fake containerd serving, start", n)
	if mode == fakeCrashFirst && n == 1 {
		go func() {
			time.Sleep(500 * time.Millisecond)
			fmt.Println("fake containerd crashing")
			os.Exit(3)
		}()
	}
	_ = srv.Serve(lis)
	return 0
}

func fakeConfig(t *testing.T) Config {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mk8s-cd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := validConfig()
	cfg.Dir = dir
	cfg.Binary = exe
	return cfg
}

func readStarts(cfg Config) int {
	data, _ := os.ReadFile(filepath.Join(cfg.Dir, "starts"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

func TestSupervisorRestartsContainerdThatDiesAndStopsItOnCancel(t *testing.T) {
	t.Setenv(fakeEnv, fakeCrashFirst)
	cfg := fakeConfig(t)
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := s.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	// The first run crashes; the supervisor starts a second one after its back-off.
	deadline := time.Now().Add(10 * time.Second)
	for readStarts(cfg) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("containerd was not restarted; log:\n%s", logTail(cfg.LogFile(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	client, err := cri.Dial(s.Endpoint(), cri.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for {
		if _, err := client.Version(ctx); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("restarted containerd does not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid := readPid(t, cfg)

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
	done <- nil // for the deferred receive
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("containerd %d still runs after the supervisor stopped", pid)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "containerd.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if !strings.Contains(logTail(cfg.LogFile(), 10), "fake containerd serving, start 2") {
		t.Errorf("log does not show the second start:\n%s", logTail(cfg.LogFile(), 10))
	}
}

func TestSupervisorStopsAContainerdAnEarlierAgentLeftRunning(t *testing.T) {
	t.Setenv(fakeEnv, "serve")
	cfg := fakeConfig(t)
	// An "earlier agent": start the fake by hand and leave its pid file.
	logFile, err := openLog(cfg.LogFile(), logLimit)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.ConfigFile(), mustRender(t, cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	old, err := startProcess(cfg.Binary, cfg.ConfigFile(), logFile)
	logFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer old.stop(time.Second)
	if err := os.WriteFile(filepath.Join(cfg.Dir, "containerd.pid"), []byte(strconv.Itoa(old.pid())), 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := s.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-old.exited:
	case <-time.After(5 * time.Second):
		t.Error("the earlier containerd still runs")
	}
	if pid := readPid(t, cfg); pid == old.pid() {
		t.Error("pid file still names the earlier containerd")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNewFailsWhenContainerdIsMissing(t *testing.T) {
	cfg := validConfig()
	cfg.Binary = "/nonexistent/containerd"
	if _, err := New(cfg, slog.Default()); err == nil || !strings.Contains(err.Error(), "find containerd") {
		t.Fatalf("got %v", err)
	}
}

func TestSbinDirectoriesAreAddedToPath(t *testing.T) {
	env := withSbinPath([]string{"HOME=/root", "PATH=/home/u/bin:/usr/bin"})
	if got := env[len(env)-1]; got != "PATH=/home/u/bin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin" {
		t.Errorf("got %s", got)
	}
}

func mustRender(t *testing.T, cfg Config) []byte {
	t.Helper()
	b, err := Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readPid(t *testing.T, cfg Config) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cfg.Dir, "containerd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
