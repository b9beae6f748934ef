package cri

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeRuntime answers the few calls the tests make.
type fakeRuntime struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer
	stopTimeout chan int64
}

func (f *fakeRuntime) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{RuntimeName: "fake", RuntimeVersion: "1.0", RuntimeApiVersion: "v1"}, nil
}

func (f *fakeRuntime) ContainerStatus(_ context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	return nil, status.Errorf(codes.NotFound, "container %q not found", req.ContainerId)
}

func (f *fakeRuntime) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	f.stopTimeout <- req.Timeout
	<-ctx.Done() // a container that ignores its stop signal
	return nil, ctx.Err()
}

func (f *fakeRuntime) ImageStatus(context.Context, *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	return &runtimeapi.ImageStatusResponse{}, nil
}

func startFake(t *testing.T) (string, *fakeRuntime) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "cri.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRuntime{stopTimeout: make(chan int64, 1)}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, f)
	runtimeapi.RegisterImageServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return sock, f
}

func TestClientCallsTheRuntimeAtAUnixEndpoint(t *testing.T) {
	sock, _ := startFake(t)
	for _, endpoint := range []string{"unix://" + sock, sock} {
		c, err := Dial(endpoint, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Version(context.Background())
		if err != nil {
			t.Fatalf("Version via %s: %v", endpoint, err)
		}
		if v.RuntimeName != "fake" {
			t.Errorf("runtime name %q, want fake", v.RuntimeName)
		}
		c.Close()
	}
}

func TestErrorsNameTheCallAndKeepTheirGRPCCode(t *testing.T) {
	sock, _ := startFake(t)
	c, err := Dial(sock, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.ContainerStatus(context.Background(), "abc123", false)
	if !IsNotFound(err) {
		t.Fatalf("want NotFound, got %v", err)
	}
	if !strings.Contains(err.Error(), "CRI ContainerStatus abc123") {
		t.Errorf("error %q does not say which call and container", err)
	}
}

func TestImageStatusOfAMissingImageIsNilWithoutError(t *testing.T) {
	sock, _ := startFake(t)
	c, _ := Dial(sock, Options{})
	defer c.Close()
	img, err := c.ImageStatus(context.Background(), "busybox:nope")
	if err != nil || img != nil {
		t.Fatalf("got %v, %v; want nil, nil", img, err)
	}
}

func TestStopContainerWaitsTheGracePeriodPlusTheCallTimeout(t *testing.T) {
	sock, f := startFake(t)
	c, _ := Dial(sock, Options{Timeout: 200 * time.Millisecond})
	defer c.Close()
	start := time.Now()
	err := c.StopContainer(context.Background(), "slow", 1500*time.Millisecond)
	took := time.Since(start)
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	if got := <-f.stopTimeout; got != 2 {
		t.Errorf("runtime was given %ds to stop, want 2 (1.5s rounded up)", got)
	}
	if took < 1700*time.Millisecond {
		t.Errorf("gave up after %v, before grace period plus timeout (1.7s)", took)
	}
}

func TestAnUnreachableRuntimeIsUnavailable(t *testing.T) {
	c, err := Dial(filepath.Join(t.TempDir(), "nobody.sock"), Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Version(context.Background()); !IsUnavailable(err) {
		t.Fatalf("want Unavailable, got %v", err)
	}
}

func TestEndpointsMustBeAbsoluteUnixSockets(t *testing.T) {
	for _, bad := range []string{"tcp://127.0.0.1:1234", "run/containerd.sock", "unix://relative.sock", ""} {
		if _, err := Dial(bad, Options{}); err == nil {
			t.Errorf("Dial(%q) accepted a bad endpoint", bad)
		}
	}
	if p, err := SocketPath("unix:///run/x.sock"); err != nil || p != "/run/x.sock" {
		t.Errorf("SocketPath = %q, %v", p, err)
	}
}
