package volumes

import (
	"os"
	"path/filepath"
	"strings"
)

// makeSubPath creates the missing directories of sub below the volume root with
// the root's mode (setgid and sticky included), as upstream does, so a subPath
// of an fsGroup emptyDir is as writable, and as group-owned, as the volume.
func makeSubPath(root, sub string) error {
	info, err := os.Stat(root)
	if err != nil {
		return err
	}
	mode := info.Mode() & (os.ModePerm | os.ModeSetgid | os.ModeSetuid | os.ModeSticky)
	cur := root
	for _, part := range strings.Split(sub, "/") {
		cur = filepath.Join(cur, part)
		if _, err := os.Lstat(cur); err == nil {
			continue
		} else if !os.IsNotExist(err) {
			return err
		}
		if err := os.Mkdir(cur, mode.Perm()); err != nil {
			return err
		}
		// Mkdir honours the umask and drops the special bits.
		if err := os.Chmod(cur, mode); err != nil {
			return err
		}
	}
	return nil
}
