package volumes

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestOwnedMode(t *testing.T) {
	cases := []struct {
		name     string
		mode     os.FileMode
		readOnly bool
		want     os.FileMode
	}{
		{"a secret file of mode 0400 becomes group-readable", 0o400, true, 0o440},
		{"a secret file already group-readable keeps its mode", 0o440, true, 0o440},
		{"a configMap file of the default 0644 keeps its mode", 0o644, true, 0o644},
		{"a token file of mode 0600 becomes 0640", 0o600, true, 0o640},
		{"a directory of a read-only volume gets group search and setgid", os.ModeDir | 0o755, true, os.ModeDir | os.ModeSetgid | 0o755},
		{"an emptyDir directory gets group write and setgid", os.ModeDir | 0o777, false, os.ModeDir | os.ModeSetgid | 0o777},
		{"a tmpfs emptyDir root keeps its sticky bit", os.ModeDir | os.ModeSticky | 0o777, false, os.ModeDir | os.ModeSticky | os.ModeSetgid | 0o777},
		{"a file in an emptyDir becomes group read-write", 0o600, false, 0o660},
		{"a symlink is left alone", os.ModeSymlink | 0o777, true, os.ModeSymlink | 0o777},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ownedMode(tc.mode, tc.readOnly); got != tc.want {
				t.Errorf("ownedMode(%v, %v) = %v, want %v", tc.mode, tc.readOnly, got, tc.want)
			}
		})
	}
}

func TestFsUserOf(t *testing.T) {
	uid := func(u int64) *int64 { return &u }
	withUser := func(u *int64) *corev1.SecurityContext { return &corev1.SecurityContext{RunAsUser: u} }
	cases := []struct {
		name string
		spec corev1.PodSpec
		want *int64
	}{
		{"no user anywhere gives none", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, nil},
		{"the pod's runAsUser applies to every container",
			corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: uid(1000)}, Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}, uid(1000)},
		{"containers that all set the same user give it",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: withUser(uid(7))}, {Name: "b", SecurityContext: withUser(uid(7))}}}, uid(7)},
		{"containers with different users give none",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: withUser(uid(7))}, {Name: "b", SecurityContext: withUser(uid(8))}}}, nil},
		{"one container running as the image's user gives none",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: withUser(uid(7))}, {Name: "b"}}}, nil},
		{"an init container's own user counts",
			corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: uid(1000)},
				InitContainers: []corev1.Container{{Name: "i", SecurityContext: withUser(uid(0))}}, Containers: []corev1.Container{{Name: "a"}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := fsUserOf(&corev1.Pod{Spec: tc.spec})
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("fsUserOf = %v, want %v", got, tc.want)
			}
		})
	}
}
