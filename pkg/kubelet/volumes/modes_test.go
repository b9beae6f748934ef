package volumes

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// requireRoot skips tests that chown files and mount tmpfs unless run as root;
// CI runs as root and must not skip them.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("needs root to chown files and mount tmpfs")
	}
	t.Skip("needs root to chown files and mount tmpfs")
}

// testManager returns a manager over a temporary pods dir whose client knows
// objs and hands out tokens; Teardown of every pod runs at cleanup.
func testManager(t *testing.T, objs ...runtime.Object) *Manager {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token: "token-data", ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Hour))}}, nil
	})
	m, err := New(Config{Dir: t.TempDir(), Client: client})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func setUp(t *testing.T, m *Manager, pod *corev1.Pod) {
	t.Helper()
	t.Cleanup(func() {
		if err := m.Teardown(context.Background(), pod); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	if err := m.Setup(context.Background(), pod); err != nil {
		t.Fatalf("setup: %v", err)
	}
}

// stat returns path's mode as `ls -l` shows it (through symlinks) and its owner.
func stat(t *testing.T, path string) (os.FileMode, uint32, uint32) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	return info.Mode(), st.Uid, st.Gid
}

func int64p(v int64) *int64 { return &v }
func int32p(v int32) *int32 { return &v }

func podWith(sc *corev1.PodSecurityContext, vols ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"},
		Spec: corev1.PodSpec{SecurityContext: sc, Volumes: vols,
			Containers: []corev1.Container{{Name: "c"}}},
	}
}

func TestEmptyDirModesAndOwnership(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name     string
		medium   corev1.StorageMedium
		fsGroup  *int64
		wantMode os.FileMode
		wantGid  uint32
	}{
		{"an emptyDir on disk is 0777 as upstream's", corev1.StorageMediumDefault, nil, os.ModeDir | 0o777, 0},
		{"an emptyDir on tmpfs is the tmpfs root's 1777", corev1.StorageMediumMemory, nil, os.ModeDir | os.ModeSticky | 0o777, 0},
		{"an emptyDir on disk with an fsGroup is group-owned and setgid", corev1.StorageMediumDefault, int64p(123), os.ModeDir | os.ModeSetgid | 0o777, 123},
		{"an emptyDir on tmpfs with an fsGroup is dgtrwxrwxrwx", corev1.StorageMediumMemory, int64p(123), os.ModeDir | os.ModeSetgid | os.ModeSticky | 0o777, 123},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testManager(t)
			pod := podWith(&corev1.PodSecurityContext{FSGroup: tc.fsGroup},
				corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: tc.medium}}})
			setUp(t, m, pod)
			dir := m.volumeDir(pod, &pod.Spec.Volumes[0])
			if tc.medium == corev1.StorageMediumMemory && !mounted(dir) {
				t.Fatalf("%s is not a mount point", dir)
			}
			// A second sync leaves the volume as it is.
			if err := m.Setup(context.Background(), pod); err != nil {
				t.Fatal(err)
			}
			mode, uid, gid := stat(t, dir)
			if mode != tc.wantMode || uid != 0 || gid != tc.wantGid {
				t.Errorf("volume is %v %d:%d, want %v 0:%d", mode, uid, gid, tc.wantMode, tc.wantGid)
			}

			// A nonexistent subPath is made like the volume root, as upstream makes it.
			mounts, err := m.Mounts(context.Background(), pod, &corev1.Container{Name: "c",
				VolumeMounts: []corev1.VolumeMount{{Name: "v", MountPath: "/test-volume", SubPath: "test-sub"}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, "test-sub"); mounts[0].HostPath != want {
				t.Fatalf("subPath mount from %s, want %s", mounts[0].HostPath, want)
			}
			mode, uid, gid = stat(t, mounts[0].HostPath)
			if mode != tc.wantMode || uid != 0 || gid != tc.wantGid {
				t.Errorf("subPath is %v %d:%d, want %v 0:%d", mode, uid, gid, tc.wantMode, tc.wantGid)
			}
		})
	}
}

func TestKubeletManagedVolumeFilesWithFSGroup(t *testing.T) {
	requireRoot(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"data-1": []byte("value-1")}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"data-1": "value-1"}}
	secretVol := func(mode *int32) corev1.VolumeSource {
		return corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: mode}}
	}
	cases := []struct {
		name     string
		sc       *corev1.PodSecurityContext
		source   corev1.VolumeSource
		file     string
		wantMode os.FileMode
		wantUid  uint32
		wantGid  uint32
	}{
		{"a secret with defaultMode 0440 and an fsGroup is readable by the group",
			&corev1.PodSecurityContext{RunAsUser: int64p(1000), FSGroup: int64p(1001)}, secretVol(int32p(0o440)), "data-1", 0o440, 0, 1001},
		{"a secret with defaultMode 0400 and an fsGroup gets at least 0440",
			&corev1.PodSecurityContext{FSGroup: int64p(1001)}, secretVol(int32p(0o400)), "data-1", 0o440, 0, 1001},
		{"a secret without an fsGroup keeps its mode and root's group",
			&corev1.PodSecurityContext{RunAsUser: int64p(1000)}, secretVol(int32p(0o400)), "data-1", 0o400, 0, 0},
		{"a configMap with an fsGroup keeps the default 0644 and is group-owned",
			&corev1.PodSecurityContext{FSGroup: int64p(1001)},
			corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}, "data-1", 0o644, 0, 1001},
		{"a downwardAPI file of mode 0440 with an fsGroup is group-owned",
			&corev1.PodSecurityContext{FSGroup: int64p(1234)},
			corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{DefaultMode: int32p(0o440),
				Items: []corev1.DownwardAPIVolumeFile{{Path: "podname", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}}, "podname", 0o440, 0, 1234},
		{"a projected secret with defaultMode 0440 and an fsGroup is readable by the group",
			&corev1.PodSecurityContext{RunAsUser: int64p(1000), FSGroup: int64p(1001)},
			corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: int32p(0o440), Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}}}, "data-1", 0o440, 0, 1001},
		{"a projected token of a pod running as one user with an fsGroup is 0640 and the user's",
			&corev1.PodSecurityContext{RunAsUser: int64p(1000), FSGroup: int64p(1001)},
			corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: int32p(0o644), Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}, "token", 0o640, 1000, 1001},
		{"a projected token of a pod running as one user without an fsGroup is 0600 and the user's",
			&corev1.PodSecurityContext{RunAsUser: int64p(1000)},
			corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: int32p(0o644), Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}, "token", 0o600, 1000, 0},
		{"a projected token of a pod without user or group keeps defaultMode",
			nil,
			corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: int32p(0o644), Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}, "token", 0o644, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testManager(t, secret, cm)
			pod := podWith(tc.sc, corev1.Volume{Name: "v", VolumeSource: tc.source})
			setUp(t, m, pod)
			dir := m.volumeDir(pod, &pod.Spec.Volumes[0])
			data, _ := os.Readlink(filepath.Join(dir, dataLink))
			mode, uid, gid := stat(t, filepath.Join(dir, tc.file))
			if mode != tc.wantMode || uid != tc.wantUid || gid != tc.wantGid {
				t.Errorf("%s is %v %d:%d, want %v %d:%d", tc.file, mode, uid, gid, tc.wantMode, tc.wantUid, tc.wantGid)
			}
			if tc.sc != nil && tc.sc.FSGroup != nil {
				if _, _, gid := stat(t, dir); gid != uint32(*tc.sc.FSGroup) {
					t.Errorf("volume root has group %d, want %d", gid, *tc.sc.FSGroup)
				}
			}
			// The next sync finds the payload as written and keeps it.
			if err := m.Setup(context.Background(), pod); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.Readlink(filepath.Join(dir, dataLink)); again != data {
				t.Errorf("a second sync rewrote the payload (%s -> %s)", data, again)
			}
		})
	}
}

func TestKubeletManagedVolumeRoots(t *testing.T) {
	requireRoot(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"k": "v"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"k": []byte("v")}}
	cases := []struct {
		name   string
		source corev1.VolumeSource
		want   os.FileMode
	}{
		{"a configMap volume's root is 0777 like the emptyDir upstream wraps",
			corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}, os.ModeDir | 0o777},
		{"a secret volume's root is its tmpfs's 1777",
			corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}, os.ModeDir | os.ModeSticky | 0o777},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testManager(t, cm, secret)
			pod := podWith(nil, corev1.Volume{Name: "v", VolumeSource: tc.source})
			setUp(t, m, pod)
			if mode, _, _ := stat(t, m.volumeDir(pod, &pod.Spec.Volumes[0])); mode != tc.want {
				t.Errorf("volume root is %v, want %v", mode, tc.want)
			}
		})
	}
}

func TestKubeletManagedVolumesMountReadOnly(t *testing.T) {
	cases := []struct {
		name     string
		source   corev1.VolumeSource
		readOnly bool
		want     bool
	}{
		{"a secret volume is read-only even when the mount does not ask", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}, false, true},
		{"a configMap volume is read-only", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}, false, true},
		{"a downwardAPI volume is read-only", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}, false, true},
		{"a projected volume is read-only", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}, false, true},
		{"an emptyDir is writable", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, false, false},
		{"an emptyDir mounted readOnly is read-only", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testManager(t)
			pod := podWith(nil, corev1.Volume{Name: "v", VolumeSource: tc.source})
			pod.Spec.HostNetwork = true // no /etc/hosts to write
			mounts, err := m.Mounts(context.Background(), pod, &corev1.Container{Name: "c",
				VolumeMounts: []corev1.VolumeMount{{Name: "v", MountPath: "/v", ReadOnly: tc.readOnly}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if mounts[0].Readonly != tc.want {
				t.Errorf("readonly = %v, want %v", mounts[0].Readonly, tc.want)
			}
		})
	}
}
