package volumes

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// Group bits a pod's fsGroup gets on a volume, as upstream's SetVolumeOwnership
// adds them: read-write for writable volumes (emptyDir), read-only for the
// kubelet-managed ones (configMap, secret, downwardAPI, projected); directories
// also get search and setgid so new files inherit the group.
const (
	groupReadWrite os.FileMode = 0o660
	groupReadOnly  os.FileMode = 0o440
	groupSearch    os.FileMode = 0o110
)

// fsGroupOf returns the pod's fsGroup, or nil when it sets none.
func fsGroupOf(pod *corev1.Pod) *int64 {
	if sc := pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// ownedMode is the mode an entry of a volume ends with once the fsGroup owns it.
// Symlinks keep theirs: chmod would follow them to the file they name.
func ownedMode(mode os.FileMode, readOnly bool) os.FileMode {
	if mode&os.ModeSymlink != 0 {
		return mode
	}
	add := groupReadWrite
	if readOnly {
		add = groupReadOnly
	}
	if mode.IsDir() {
		add |= groupSearch | os.ModeSetgid
	}
	return mode | add
}

// giveToFSGroup makes every entry under root group-owned by gid with ownedMode's
// bits, so a pod running as another user reads (and for emptyDir writes) its volumes.
func giveToFSGroup(root string, gid int64, readOnly bool) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.Lchown(p, -1, int(gid)); err != nil {
			return fmt.Errorf("set group of %s to %d: %w", p, gid, err)
		}
		want := ownedMode(info.Mode(), readOnly)
		if want == info.Mode() || info.Mode()&os.ModeSymlink != 0 {
			return nil
		}
		// Chown clears setgid on files; the mode is set after it on purpose.
		if err := os.Chmod(p, want&(os.ModePerm|os.ModeSetgid|os.ModeSetuid|os.ModeSticky)); err != nil {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
		return nil
	})
}

// fsUserOf returns the user every container of the pod runs as, or nil when one
// runs as the image's user or two differ; upstream gives it projected tokens.
func fsUserOf(pod *corev1.Pod) *int64 {
	var podUser *int64
	if sc := pod.Spec.SecurityContext; sc != nil {
		podUser = sc.RunAsUser
	}
	var user *int64
	same := true
	visit := func(sc *corev1.SecurityContext) {
		u := podUser
		if sc != nil && sc.RunAsUser != nil {
			u = sc.RunAsUser
		}
		if u == nil || (user != nil && *user != *u) {
			same = false
			return
		}
		user = u
	}
	for i := range pod.Spec.InitContainers {
		visit(pod.Spec.InitContainers[i].SecurityContext)
	}
	for i := range pod.Spec.Containers {
		visit(pod.Spec.Containers[i].SecurityContext)
	}
	for i := range pod.Spec.EphemeralContainers {
		visit(pod.Spec.EphemeralContainers[i].SecurityContext)
	}
	if !same {
		return nil
	}
	return user
}
