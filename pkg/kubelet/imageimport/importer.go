package imageimport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minik8s/minik8s/pkg/kubelet/cri"
)

// DefaultTimeout bounds one tarball's import.
const DefaultTimeout = 10 * time.Minute

// visibleTimeout bounds the wait for the CRI to see an imported image: it learns
// of new images from containerd's events, a moment after ctr returns.
const visibleTimeout = 10 * time.Second

// Config says which containerd to import into.
type Config struct {
	// Socket is containerd's socket (where its CRI is served too).
	Socket string
	// Ctr is the ctr executable; empty looks it up in PATH.
	Ctr string
	// Timeout bounds one import; zero means DefaultTimeout.
	Timeout time.Duration
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if !filepath.IsAbs(c.Socket) {
		return fmt.Errorf("containerd socket %q must be an absolute path", c.Socket)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("import timeout %v must not be negative", c.Timeout)
	}
	return nil
}

// Importer imports tarballs into one containerd.
type Importer struct {
	cfg     Config
	ctr     string
	runtime *cri.Client
	log     *slog.Logger
}

// New returns an importer that imports with ctr and checks through runtime, a
// CRI client of the same containerd.
func New(cfg Config, runtime *cri.Client, log *slog.Logger) (*Importer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	name := cfg.Ctr
	if name == "" {
		name = "ctr"
	}
	ctr, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("find ctr (Debian ships it with containerd): %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Importer{cfg: cfg, ctr: ctr, runtime: runtime, log: log.With("component", "image-import")}, nil
}

// Imported is one image an import made available.
type Imported struct {
	Name string
	// ID is the image id the CRI reports.
	ID string
}

// ImportFile imports a tarball, whether or not its images are there already,
// and returns its images once the CRI sees them.
func (im *Importer) ImportFile(ctx context.Context, file string) ([]Imported, error) {
	open := func() (io.ReadCloser, error) { return os.Open(file) }
	imgs, err := im.importFrom(ctx, open)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", file, err)
	}
	return imgs, nil
}

// ImportBytes imports a tarball held in memory (the pause image) unless all
// its images are there already; label names it in errors.
func (im *Importer) ImportBytes(ctx context.Context, tarball []byte, label string) ([]Imported, bool, error) {
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarball)), nil }
	want, err := Inspect(open)
	if err != nil {
		return nil, false, fmt.Errorf("import %s: %w", label, err)
	}
	if have, err := im.present(ctx, want); err != nil {
		return nil, false, fmt.Errorf("import %s: %w", label, err)
	} else if have != nil {
		return have, false, nil
	}
	imgs, err := im.importFrom(ctx, open)
	if err != nil {
		return nil, false, fmt.Errorf("import %s: %w", label, err)
	}
	return imgs, true, nil
}

// DirResult counts what ImportDir did.
type DirResult struct {
	Imported, Skipped, Failed int
}

// ImportDir imports every tarball in dir (*.tar, *.tar.gz, *.tgz) whose images
// are not all present with the same id already. A bad file is logged and
// skipped; the only error is an unreadable dir. A missing dir is empty.
func (im *Importer) ImportDir(ctx context.Context, dir string) (DirResult, error) {
	var res DirResult
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("read image dir: %w", err)
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		file := filepath.Join(dir, e.Name())
		if !isTarball(e.Name()) {
			im.log.Info("not an image tarball; skipped", "file", file)
			continue
		}
		if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() {
			im.log.Warn("not a readable file; skipped", "file", file, "err", err)
			res.Failed++
			continue
		}
		open := func() (io.ReadCloser, error) { return os.Open(file) }
		want, err := Inspect(open)
		if err != nil {
			im.log.Warn("bad image tarball; skipped", "file", file, "err", err)
			res.Failed++
			continue
		}
		if have, err := im.present(ctx, want); err != nil {
			im.log.Warn("cannot tell whether a tarball is imported; importing it", "file", file, "err", err)
		} else if have != nil {
			im.log.Debug("images already imported", "file", file, "images", names(have))
			res.Skipped++
			continue
		}
		start := time.Now()
		imgs, err := im.importFrom(ctx, open)
		if err != nil {
			im.log.Warn("image import failed; skipped", "file", file, "err", err)
			res.Failed++
			continue
		}
		im.log.Info("imported images", "file", file, "images", names(imgs), "took", time.Since(start).Round(time.Millisecond))
		res.Imported++
	}
	return res, nil
}

// isTarball says whether a file name is one ImportDir reads.
func isTarball(name string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// present returns the images if the CRI has every one of them under its name
// with the same id, else nil.
func (im *Importer) present(ctx context.Context, want []ArchiveImage) ([]Imported, error) {
	if len(want) == 0 {
		return nil, nil // unnamed: cannot tell, so import
	}
	var have []Imported
	for _, w := range want {
		img, err := im.runtime.ImageStatus(ctx, w.Name)
		if err != nil {
			return nil, err
		}
		if img == nil || img.Id != w.ID {
			return nil, nil
		}
		have = append(have, Imported{Name: w.Name, ID: img.Id})
	}
	return have, nil
}

// importFrom streams the tarball through ctr, then waits until the CRI sees
// each image: a sandbox or container created before that would make the CRI
// try to pull it.
func (im *Importer) importFrom(ctx context.Context, open opener) ([]Imported, error) {
	want, err := Inspect(open)
	if err != nil {
		return nil, err
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := decompressed(f)
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, im.cfg.Timeout)
	defer cancel()
	unpacked, err := ctrImport(ictx, im.ctr, im.cfg.Socket, r)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(want))
	for _, w := range want {
		names = append(names, w.Name)
	}
	for _, n := range unpacked {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, errors.New("ctr imported no named image")
	}
	return im.waitVisible(ctx, names)
}

// waitVisible polls the CRI until it reports every name.
func (im *Importer) waitVisible(ctx context.Context, names []string) ([]Imported, error) {
	ctx, cancel := context.WithTimeout(ctx, visibleTimeout)
	defer cancel()
	var out []Imported
	for _, n := range names {
		for {
			img, err := im.runtime.ImageStatus(ctx, n)
			if err == nil && img != nil {
				out = append(out, Imported{Name: n, ID: img.Id})
				break
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("imported %s, but the CRI does not list it: %w", n, errors.Join(err, ctx.Err()))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return out, nil
}

func names(imgs []Imported) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.Name
	}
	return out
}
