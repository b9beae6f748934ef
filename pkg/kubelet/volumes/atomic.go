package volumes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// File is one file of a projected volume.
type File struct {
	Data []byte
	Mode os.FileMode
	// Owner, when set, is the user that owns the file (a service account token
	// read by a pod whose containers all run as that user).
	Owner *int64
}

// mode is the file's mode, 0644 when unset.
func (f File) mode() os.FileMode {
	if f.Mode == 0 {
		return 0o644
	}
	return f.Mode
}

// dataLink names the symlink to the current payload, as upstream's atomic writer
// does; containers see each top-level entry as a symlink through it, so a new
// payload appears all at once by swapping the one link.
const dataLink = "..data"

// writeAtomic makes dir hold exactly payload (paths relative to dir). It does
// nothing when the payload is already there, so it can run on every sync.
func writeAtomic(dir string, payload map[string]File) (bool, error) {
	for p := range payload {
		if !validPath(p) {
			return false, fmt.Errorf("invalid path %q", p)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	if same(dir, payload) {
		return false, nil
	}
	stamp := ".." + time.Now().UTC().Format("2006_01_02_15_04_05.000000000")
	tsDir := filepath.Join(dir, stamp)
	if err := os.Mkdir(tsDir, 0o755); err != nil {
		return false, err
	}
	for p, f := range payload {
		full := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, err
		}
		mode := f.mode()
		if err := os.WriteFile(full, f.Data, mode); err != nil {
			return false, err
		}
		// WriteFile honours the umask; the mode asked for is what the user sees.
		if err := os.Chmod(full, mode); err != nil {
			return false, err
		}
		if f.Owner != nil {
			if err := os.Lchown(full, int(*f.Owner), -1); err != nil {
				return false, fmt.Errorf("set owner of %s: %w", full, err)
			}
		}
	}
	old, _ := os.Readlink(filepath.Join(dir, dataLink))
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(stamp, tmpLink); err != nil {
		return false, err
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, dataLink)); err != nil {
		return false, err
	}
	// Top-level entries point through ..data; entries no longer in the payload go.
	top := map[string]bool{}
	for p := range payload {
		top[strings.SplitN(p, "/", 2)[0]] = true
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			continue
		}
		if !top[n] {
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
	for n := range top {
		link := filepath.Join(dir, n)
		if target, err := os.Readlink(link); err == nil && target == filepath.Join(dataLink, n) {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(filepath.Join(dataLink, n), link); err != nil {
			return false, err
		}
	}
	if old != "" && old != stamp {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
	return true, nil
}

// same reports whether dir already holds payload.
func same(dir string, payload map[string]File) bool {
	target, err := os.Readlink(filepath.Join(dir, dataLink))
	if err != nil {
		return false
	}
	root := filepath.Join(dir, target)
	count := 0
	err = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		count++
		rel, _ := filepath.Rel(root, p)
		f, ok := payload[rel]
		if !ok {
			return fmt.Errorf("extra")
		}
		if info.Mode().Perm() != f.mode().Perm() {
			return fmt.Errorf("mode")
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && f.Owner != nil && int64(st.Uid) != *f.Owner {
			return fmt.Errorf("owner")
		}
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(data, f.Data) {
			return fmt.Errorf("data")
		}
		return nil
	})
	return err == nil && count == len(payload)
}

// validPath refuses absolute paths and escapes, as upstream validates items.
func validPath(p string) bool {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "..") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "" {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
