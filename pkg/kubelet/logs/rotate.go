// Package logs rotates the log files of running containers, as upstream's kubelet
// does: when a container's log passes the size limit it is renamed with a
// timestamp and the runtime is told to reopen it; older rotated files are
// compressed, and the oldest are removed so that no container keeps more than the
// allowed number of files. `kubectl logs` reads the live file, as upstream's does.
package logs

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Upstream's defaults (KubeletConfiguration containerLogMaxSize, containerLogMaxFiles
// and containerLogMonitorInterval).
const (
	DefaultMaxSize  = 10 << 20
	DefaultMaxFiles = 5
	DefaultPeriod   = 10 * time.Second
)

const (
	// timestampFormat names rotated files: 0.log.20261207-050102.
	timestampFormat = "20060102-150405"
	compressSuffix  = ".gz"
	tmpSuffix       = ".tmp"
)

// Policy says when to rotate and how much to keep.
type Policy struct {
	// MaxSize is the size in bytes at which a log is rotated; 0 turns rotation off.
	MaxSize int64
	// MaxFiles is how many files a container keeps, the live one included (at least 2).
	MaxFiles int
}

// Validate checks the policy.
func (p Policy) Validate() error {
	if p.MaxSize < 0 {
		return fmt.Errorf("container log max size %d must not be negative", p.MaxSize)
	}
	if p.MaxSize > 0 && p.MaxFiles < 2 {
		return fmt.Errorf("container log max files %d must be at least 2", p.MaxFiles)
	}
	return nil
}

// Runtime is what rotation needs of the CRI runtime.
type Runtime interface {
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	ReopenContainerLog(ctx context.Context, containerID string) error
}

// Rotator rotates the logs of a runtime's running containers.
type Rotator struct {
	rt     Runtime
	policy Policy
	log    *slog.Logger
	now    func() time.Time
}

// NewRotator returns a rotator; log may be nil.
func NewRotator(rt Runtime, policy Policy, log *slog.Logger) (*Rotator, error) {
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Rotator{rt: rt, policy: policy, log: log.With("component", "log-rotation"), now: time.Now}, nil
}

// Run rotates every period until ctx ends; it does nothing when rotation is off.
func (r *Rotator) Run(ctx context.Context, period time.Duration) {
	if r.policy.MaxSize == 0 {
		return
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.RotateAll(ctx); err != nil {
			r.log.Info("rotate container logs", "err", err)
		}
	}
}

// RotateAll makes one pass over the running containers.
func (r *Rotator) RotateAll(ctx context.Context) error {
	cs, err := r.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		st, err := r.rt.ContainerStatus(ctx, c.Id, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		path := st.GetStatus().GetLogPath()
		if path == "" {
			continue
		}
		if err := r.rotate(ctx, c.Id, path); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", c.Id, err))
		}
	}
	return errors.Join(errs...)
}

// rotate rotates one container's log if it has grown past the limit.
func (r *Rotator) rotate(ctx context.Context, id, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	if fi.Size() < r.policy.MaxSize {
		return nil
	}
	rotated, err := r.tidy(path)
	if err != nil {
		return err
	}
	to := path + "." + r.now().Format(timestampFormat)
	for _, f := range rotated {
		if strings.TrimSuffix(f, compressSuffix) == to {
			return nil // rotated this second already: next pass
		}
	}
	if err := os.Rename(path, to); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	if err := r.rt.ReopenContainerLog(ctx, id); err != nil {
		// The runtime still writes to the renamed file: give it its name back.
		if rerr := os.Rename(to, path); rerr != nil {
			return errors.Join(err, fmt.Errorf("rename %s back: %w", to, rerr))
		}
		return err
	}
	r.log.Debug("rotated container log", "container", id, "file", to, "size", fi.Size())
	return nil
}

// tidy prepares path's rotated files for one more: it removes leftovers of an
// interrupted compression and the oldest files beyond the limit, compresses all
// but the newest, and returns what is left, oldest first.
func (r *Rotator) tidy(path string) ([]string, error) {
	matches, err := filepath.Glob(globEscape(path) + ".*")
	if err != nil {
		return nil, err
	}
	var rotated []string
	for _, m := range matches {
		if strings.HasSuffix(m, tmpSuffix) {
			_ = os.Remove(m)
			continue
		}
		rotated = append(rotated, m)
	}
	// The timestamps sort by name once the compression suffix is set aside.
	sort.Slice(rotated, func(i, j int) bool {
		return strings.TrimSuffix(rotated[i], compressSuffix) < strings.TrimSuffix(rotated[j], compressSuffix)
	})
	// After this rotation the container has the live file, the one rotated now and
	// these: keep MaxFiles-2 of them.
	for len(rotated) > r.policy.MaxFiles-2 {
		if err := os.Remove(rotated[0]); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		rotated = rotated[1:]
	}
	for i, f := range rotated {
		if i == len(rotated)-1 || strings.HasSuffix(f, compressSuffix) {
			continue // the newest stays readable as it is
		}
		gz, err := compress(f)
		if err != nil {
			return nil, err
		}
		rotated[i] = gz
	}
	return rotated, nil
}

// compress gzips file into file.gz and removes file.
func compress(file string) (string, error) {
	in, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer in.Close()
	gz := file + compressSuffix
	tmp := gz + tmpSuffix
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", err
	}
	w := gzip.NewWriter(out)
	_, err = io.Copy(w, in)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, gz)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("compress %s: %w", file, err)
	}
	return gz, os.Remove(file)
}

// globEscape quotes the characters filepath.Glob treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Remove deletes a container's log file and every file rotated from it, as
// upstream's kubelet does when it removes a container.
func Remove(path string) error {
	rotated, err := filepath.Glob(globEscape(path) + ".*")
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range append(rotated, path) {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
