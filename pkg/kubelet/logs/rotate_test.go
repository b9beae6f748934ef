package logs

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeRuntime has running containers whose log files the test writes; Reopen
// records what the runtime was asked to reopen.
type fakeRuntime struct {
	logs      map[string]string // container id -> log path
	reopened  []string
	reopenErr error
}

func (f *fakeRuntime) ListContainers(_ context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	if filter.GetState().GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, errors.New("rotation must ask for running containers only")
	}
	var cs []*runtimeapi.Container
	for id := range f.logs {
		cs = append(cs, &runtimeapi.Container{Id: id, State: runtimeapi.ContainerState_CONTAINER_RUNNING})
	}
	return cs, nil
}

func (f *fakeRuntime) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: id, LogPath: f.logs[id]}}, nil
}

func (f *fakeRuntime) ReopenContainerLog(_ context.Context, id string) error {
	if f.reopenErr != nil {
		return f.reopenErr
	}
	f.reopened = append(f.reopened, id)
	// The runtime starts a new, empty file where the old one was.
	return os.WriteFile(f.logs[id], nil, 0o644)
}

func newTestRotator(t *testing.T, rt Runtime, p Policy, now *time.Time) *Rotator {
	t.Helper()
	r, err := NewRotator(rt, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return *now }
	return r
}

func write(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	line := "2026-12-07T05:00:00.000000000Z stdout F " + strings.Repeat("x", 60) + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, size/len(line)+1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestALogPastTheLimitIsRotatedAndReopened(t *testing.T) {
	dir := t.TempDir()
	big, small := filepath.Join(dir, "web", "0.log"), filepath.Join(dir, "side", "0.log")
	write(t, big, 2048)
	write(t, small, 100)
	rt := &fakeRuntime{logs: map[string]string{"big": big, "small": small}}
	now := time.Date(2026, 12, 7, 5, 1, 2, 0, time.UTC)
	r := newTestRotator(t, rt, Policy{MaxSize: 1024, MaxFiles: 5}, &now)
	if err := r.RotateAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := files(t, filepath.Dir(big)); strings.Join(got, ",") != "0.log,0.log.20261207-050102" {
		t.Errorf("web's files: %v", got)
	}
	if got := files(t, filepath.Dir(small)); strings.Join(got, ",") != "0.log" {
		t.Errorf("a log under the limit was touched: %v", got)
	}
	if len(rt.reopened) != 1 || rt.reopened[0] != "big" {
		t.Errorf("reopened %v, want [big]", rt.reopened)
	}
}

func TestOlderRotatedLogsAreCompressedAndTheOldestRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c", "0.log")
	rt := &fakeRuntime{logs: map[string]string{"c": path}}
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	r := newTestRotator(t, rt, Policy{MaxSize: 1024, MaxFiles: 4}, &now)
	for i := 0; i < 4; i++ {
		write(t, path, 2048)
		if err := r.RotateAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	// Four files: the live one, the two newest rotated as they are (the runtime may
	// still have been writing the newer when it was renamed), the older compressed.
	want := "0.log,0.log.20261207-050100.gz,0.log.20261207-050200,0.log.20261207-050300"
	if got := strings.Join(files(t, filepath.Dir(path)), ","); got != want {
		t.Fatalf("files %s, want %s", got, want)
	}
	f, err := os.Open(filepath.Join(dir, "c", "0.log.20261207-050100.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(data), "stdout F xxx") {
		t.Fatalf("compressed log unreadable: %v, %q", err, data[:min(len(data), 80)])
	}
}

func TestAFailedReopenGivesTheLogItsNameBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c", "0.log")
	write(t, path, 2048)
	rt := &fakeRuntime{logs: map[string]string{"c": path}, reopenErr: errors.New("runtime down")}
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	r := newTestRotator(t, rt, Policy{MaxSize: 1024, MaxFiles: 5}, &now)
	if err := r.RotateAll(context.Background()); err == nil || !strings.Contains(err.Error(), "runtime down") {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(files(t, filepath.Dir(path)), ","); got != "0.log" {
		t.Fatalf("files %s, want the live log only", got)
	}
}

func TestLeftoversOfAnInterruptedCompressionAreRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c", "0.log")
	write(t, path, 2048)
	if err := os.WriteFile(path+".20261207-040000.gz.tmp", []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	rt := &fakeRuntime{logs: map[string]string{"c": path}}
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	r := newTestRotator(t, rt, Policy{MaxSize: 1024, MaxFiles: 5}, &now)
	if err := r.RotateAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(files(t, filepath.Dir(path)), ","); got != "0.log,0.log.20261207-050000" {
		t.Fatalf("files %s", got)
	}
}

func TestPolicyValidation(t *testing.T) {
	for _, p := range []Policy{{MaxSize: -1, MaxFiles: 5}, {MaxSize: 1, MaxFiles: 1}} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
	for _, p := range []Policy{{MaxSize: 0}, {MaxSize: DefaultMaxSize, MaxFiles: DefaultMaxFiles}} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestRemoveTakesTheLogAndItsRotatedFilesOnly(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"0.log", "0.log.20261207-050000.gz", "0.log.20261207-050100", "1.log", "10.log"} {
		write(t, filepath.Join(dir, f), 10)
	}
	if err := Remove(filepath.Join(dir, "0.log")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(files(t, dir), ","); got != "1.log,10.log" {
		t.Fatalf("left %s", got)
	}
	if err := Remove(filepath.Join(dir, "0.log")); err != nil {
		t.Fatalf("removing again: %v", err)
	}
}
