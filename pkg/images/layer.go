package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// EntryKind says what an Entry of a layer is.
type EntryKind int

// The kinds of layer entries.
const (
	KindFile EntryKind = iota
	KindDir
	KindSymlink
	KindHardlink
)

func (k EntryKind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	case KindHardlink:
		return "hardlink"
	}
	return fmt.Sprintf("EntryKind(%d)", int(k))
}

// Entry is one file system object of a layer.
type Entry struct {
	// Path inside the image; a leading "/" is optional ("bin/sh" and "/bin/sh" are the same).
	Path string
	Kind EntryKind
	// Mode holds the permission bits and fs.ModeSetuid, fs.ModeSetgid, fs.ModeSticky.
	Mode     fs.FileMode
	UID, GID int
	// Data is the content of a file.
	Data []byte
	// Target is where a symlink points (as written) or the image path a hard link shares.
	Target string
}

// Epoch is the modification time of every entry and the creation time of every
// image, fixed so that digests do not depend on when an image was built.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Layer is a file system layer built in memory. Parent directories that were not
// added explicitly are created with mode 0755, owned by root. Adding a path twice
// keeps the last entry. The methods that return nothing record the first error,
// which Tar reports.
type Layer struct {
	entries map[string]Entry
	err     error
}

// NewLayer returns an empty layer.
func NewLayer() *Layer {
	return &Layer{entries: map[string]Entry{}}
}

// Add adds one entry.
func (l *Layer) Add(e Entry) error {
	p, err := cleanPath(e.Path)
	if err != nil {
		return err
	}
	if e.Mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		return fmt.Errorf("layer entry %q: mode %v has type bits; use Kind", e.Path, e.Mode)
	}
	switch e.Kind {
	case KindFile, KindDir:
	case KindSymlink:
		if e.Target == "" {
			return fmt.Errorf("layer entry %q: symlink without a target", e.Path)
		}
	case KindHardlink:
		t, err := cleanPath(e.Target)
		if err != nil {
			return fmt.Errorf("layer entry %q: hard link target: %w", e.Path, err)
		}
		e.Target = t
	default:
		return fmt.Errorf("layer entry %q: unknown kind %v", e.Path, e.Kind)
	}
	e.Path = p
	l.entries[p] = e
	return nil
}

func (l *Layer) record(err error) {
	if err != nil && l.err == nil {
		l.err = err
	}
}

// File adds a regular file owned by root.
func (l *Layer) File(p string, mode fs.FileMode, data []byte) {
	l.record(l.Add(Entry{Path: p, Kind: KindFile, Mode: mode, Data: data}))
}

// Dir adds a directory owned by root.
func (l *Layer) Dir(p string, mode fs.FileMode) {
	l.record(l.Add(Entry{Path: p, Kind: KindDir, Mode: mode}))
}

// Symlink adds a symbolic link at p pointing to target.
func (l *Layer) Symlink(p, target string) {
	l.record(l.Add(Entry{Path: p, Kind: KindSymlink, Mode: 0o777, Target: target}))
}

// Hardlink adds p as a second name of the regular file at target; it shares
// the target's mode and owner.
func (l *Layer) Hardlink(p, target string) {
	l.record(l.Add(Entry{Path: p, Kind: KindHardlink, Target: target}))
}

// Entries returns the entries in the order Tar writes them, implicit parent
// directories included.
func (l *Layer) Entries() ([]Entry, error) {
	if l.err != nil {
		return nil, l.err
	}
	all := make(map[string]Entry, len(l.entries))
	for p, e := range l.entries {
		all[p] = e
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if _, ok := l.entries[d]; !ok {
				all[d] = Entry{Path: d, Kind: KindDir, Mode: 0o755}
			}
		}
	}
	for p, e := range all {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if all[d].Kind != KindDir {
				return nil, fmt.Errorf("layer entry %q: parent %q is a %v, not a dir", p, d, all[d].Kind)
			}
		}
		if e.Kind == KindHardlink {
			t, ok := all[e.Target]
			if !ok || t.Kind != KindFile {
				return nil, fmt.Errorf("layer entry %q: hard link target %q is not a file in this layer", p, e.Target)
			}
			// Extractors (containerd's among them) apply a hard link header's
			// mode and owner to the shared inode: they must be the file's.
			e.Mode, e.UID, e.GID = t.Mode, t.UID, t.GID
			all[p] = e
		}
	}
	out := make([]Entry, 0, len(all))
	for _, e := range all {
		out = append(out, e)
	}
	// Sorted by path, so a directory comes before what it holds; hard links last,
	// because an extractor needs their target to exist already.
	sort.Slice(out, func(i, j int) bool {
		hi, hj := out[i].Kind == KindHardlink, out[j].Kind == KindHardlink
		if hi != hj {
			return hj
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// Tar returns the layer as an uncompressed tar stream.
func (l *Layer) Tar() ([]byte, error) {
	entries, err := l.Entries()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:    e.Path,
			Mode:    tarMode(e.Mode),
			Uid:     e.UID,
			Gid:     e.GID,
			ModTime: Epoch,
			Format:  tar.FormatPAX,
		}
		switch e.Kind {
		case KindFile:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.Data))
		case KindDir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case KindSymlink:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = e.Target
		case KindHardlink:
			hdr.Typeflag = tar.TypeLink
			hdr.Linkname = e.Target
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write layer entry %q: %w", e.Path, err)
		}
		if e.Kind == KindFile {
			if _, err := tw.Write(e.Data); err != nil {
				return nil, fmt.Errorf("write layer entry %q: %w", e.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close layer tar: %w", err)
	}
	return buf.Bytes(), nil
}

// tarMode converts Go's mode bits to the Unix ones a tar header carries.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// cleanPath turns an image path into the relative form layer tars use.
func cleanPath(p string) (string, error) {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" || c == "" {
		return "", errors.New("layer entry: empty path or the root")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("layer entry %q: path has a .. element", p)
		}
	}
	return c, nil
}
