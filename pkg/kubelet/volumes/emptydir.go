package volumes

import (
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
)

// emptyDirMode is the mode of an emptyDir, as upstream's: any user of the pod may
// write it. A memory-backed one is a tmpfs whose root is 1777.
const emptyDirMode os.FileMode = 0o777

// setupEmptyDir creates the emptyDir once: on later syncs it is left as the pod
// made it, as upstream does once the volume is ready.
func (m *Manager) setupEmptyDir(pod *corev1.Pod, v *corev1.Volume) error {
	dir := m.volumeDir(pod, v)
	memory := v.EmptyDir.Medium == corev1.StorageMediumMemory
	if _, err := os.Stat(dir); err == nil && (!memory || mounted(dir)) {
		return nil
	}
	if err := makeDir(dir, emptyDirMode); err != nil {
		return err
	}
	if memory {
		var size int64
		if v.EmptyDir.SizeLimit != nil {
			size = v.EmptyDir.SizeLimit.Value()
		}
		if err := mountTmpfs(dir, size); err != nil {
			return err
		}
	}
	if gid := fsGroupOf(pod); gid != nil {
		return giveToFSGroup(dir, *gid, false)
	}
	return nil
}

// makeDir creates dir with exactly mode, whatever the umask.
func makeDir(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}
