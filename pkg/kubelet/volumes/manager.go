// Package volumes prepares pod volumes on the node (emptyDir, hostPath, configMap,
// secret, downwardAPI, projected, persistentVolumeClaim of hostPath/local volumes)
// and the files the kubelet manages per container (/etc/hosts, the termination
// message), and says what each container mounts.
package volumes

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/envvars"
)

// Config configures the volume manager.
type Config struct {
	// Dir holds one directory per pod (<agent dir>/pods).
	Dir    string
	Client kubernetes.Interface
	// ClusterDomain names pods in /etc/hosts.
	ClusterDomain string
	// Allocatable is the node's, for resourceFieldRef limits a container leaves unset.
	Allocatable func() corev1.ResourceList
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if !filepath.IsAbs(c.Dir) || c.Client == nil {
		return errors.New("volumes: an absolute dir and a client are required")
	}
	return nil
}

// Manager implements the pod workers' Volumes interface.
type Manager struct {
	cfg    Config
	tokens *tokens
}

// New returns a volume manager.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	return &Manager{cfg: cfg, tokens: &tokens{client: cfg.Client}}, nil
}

func (m *Manager) allocatable() corev1.ResourceList {
	if m.cfg.Allocatable == nil {
		return nil
	}
	return m.cfg.Allocatable()
}

func (m *Manager) podDir(pod *corev1.Pod) string { return filepath.Join(m.cfg.Dir, string(pod.UID)) }

// volumeDir is where a volume's files live, laid out as upstream's kubelet does.
func (m *Manager) volumeDir(pod *corev1.Pod, v *corev1.Volume) string {
	plugin := "kubernetes.io~empty-dir"
	switch {
	case v.ConfigMap != nil:
		plugin = "kubernetes.io~configmap"
	case v.Secret != nil:
		plugin = "kubernetes.io~secret"
	case v.DownwardAPI != nil:
		plugin = "kubernetes.io~downward-api"
	case v.Projected != nil:
		plugin = "kubernetes.io~projected"
	}
	return filepath.Join(m.podDir(pod), "volumes", plugin, v.Name)
}

// Setup prepares every volume; it runs on every sync so ConfigMap, Secret and
// downward API changes reach running pods.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) error {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if err := m.setupVolume(ctx, pod, v); err != nil {
			return fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", v.Name, err)
		}
	}
	return nil
}

func (m *Manager) setupVolume(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) error {
	switch {
	case v.EmptyDir != nil:
		return m.setupEmptyDir(pod, v)
	case v.HostPath != nil:
		return checkHostPath(v.HostPath)
	case v.PersistentVolumeClaim != nil:
		_, err := m.claimPath(ctx, pod, v.PersistentVolumeClaim.ClaimName)
		return err
	}
	payload, ok, err := m.payloadOf(ctx, pod, v)
	if !ok {
		return fmt.Errorf("volume type of %q is not supported on this node", v.Name)
	}
	if err != nil {
		return err
	}
	dir := m.volumeDir(pod, v)
	if v.Secret != nil || v.Projected != nil {
		// Secrets never touch the disk, as upstream keeps them in memory.
		if err := mountTmpfs(dir, 0); err != nil {
			return err
		}
	} else if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := makeDir(dir, emptyDirMode); err != nil {
			return err
		}
	}
	gid := fsGroupOf(pod)
	if gid != nil {
		// The files are written with the group bits the ownership change adds, so
		// the next sync finds the payload unchanged.
		for p, f := range payload {
			f.Mode = ownedMode(f.mode(), true)
			payload[p] = f
		}
	}
	if _, err := writeAtomic(dir, payload); err != nil {
		return err
	}
	if gid != nil {
		return giveToFSGroup(dir, *gid, true)
	}
	return nil
}

// claimPath finds the host directory of a bound hostPath or local volume.
func (m *Manager) claimPath(ctx context.Context, pod *corev1.Pod, claim string) (string, error) {
	pvc, err := m.cfg.Client.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get persistentvolumeclaim %q: %w", claim, err)
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
		return "", fmt.Errorf("persistentvolumeclaim %q is not bound", claim)
	}
	pv, err := m.cfg.Client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get persistentvolume %q: %w", pvc.Spec.VolumeName, err)
	}
	switch {
	case pv.Spec.HostPath != nil:
		return pv.Spec.HostPath.Path, checkHostPath(pv.Spec.HostPath)
	case pv.Spec.Local != nil:
		return pv.Spec.Local.Path, nil
	}
	return "", fmt.Errorf("persistentvolume %q: only hostPath and local volumes are supported on this node", pv.Name)
}

// Mounts returns what container c mounts: its volumeMounts, /etc/hosts and its
// termination message file. pod must carry the pod IP; env expands subPathExpr.
func (m *Manager) Mounts(ctx context.Context, pod *corev1.Pod, c *corev1.Container, env []corev1.EnvVar) ([]*runtimeapi.Mount, error) {
	var out []*runtimeapi.Mount
	hasHosts := false
	for _, vm := range c.VolumeMounts {
		var v *corev1.Volume
		for i := range pod.Spec.Volumes {
			if pod.Spec.Volumes[i].Name == vm.Name {
				v = &pod.Spec.Volumes[i]
			}
		}
		if v == nil {
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		host, err := m.hostPath(ctx, pod, v)
		if err != nil {
			return nil, err
		}
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expandEnv(vm.SubPathExpr, env)
		}
		if sub != "" {
			if !validPath(sub) {
				return nil, fmt.Errorf("invalid subPath %q", sub)
			}
			if err := makeSubPath(host, sub); err != nil {
				return nil, fmt.Errorf("failed to create subPath directory for volumeMount %q of container %q: %w", vm.Name, c.Name, err)
			}
			host = filepath.Join(host, sub)
		}
		if vm.MountPath == "/etc/hosts" {
			hasHosts = true
		}
		out = append(out, &runtimeapi.Mount{ContainerPath: vm.MountPath, HostPath: host, Readonly: vm.ReadOnly || kubeletManaged(v),
			Propagation: propagation(vm.MountPropagation)})
	}
	if !pod.Spec.HostNetwork && !hasHosts {
		hosts, err := m.writeHosts(pod)
		if err != nil {
			return nil, err
		}
		out = append(out, &runtimeapi.Mount{ContainerPath: "/etc/hosts", HostPath: hosts})
	}
	if c.TerminationMessagePath != "" {
		f, err := m.terminationFile(pod, c)
		if err != nil {
			return nil, err
		}
		out = append(out, &runtimeapi.Mount{ContainerPath: c.TerminationMessagePath, HostPath: f})
	}
	return out, nil
}

func (m *Manager) hostPath(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (string, error) {
	switch {
	case v.HostPath != nil:
		return v.HostPath.Path, nil
	case v.PersistentVolumeClaim != nil:
		return m.claimPath(ctx, pod, v.PersistentVolumeClaim.ClaimName)
	case v.EmptyDir != nil, v.ConfigMap != nil, v.Secret != nil, v.DownwardAPI != nil, v.Projected != nil:
		return m.volumeDir(pod, v), nil
	}
	return "", fmt.Errorf("volume type of %q is not supported on this node", v.Name)
}

// kubeletManaged reports whether the kubelet writes the volume's files; such a
// volume is always mounted read-only, as upstream mounts it, so containers
// cannot change them behind the kubelet (a secret's tmpfs root is 1777).
func kubeletManaged(v *corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

func propagation(p *corev1.MountPropagationMode) runtimeapi.MountPropagation {
	if p == nil {
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE
	}
	switch *p {
	case corev1.MountPropagationHostToContainer:
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
	case corev1.MountPropagationBidirectional:
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
	}
	return runtimeapi.MountPropagation_PROPAGATION_PRIVATE
}

// terminationFile makes the empty file a container instance writes its message to.
func (m *Manager) terminationFile(pod *corev1.Pod, c *corev1.Container) (string, error) {
	dir := filepath.Join(m.podDir(pod), "containers", c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	f := filepath.Join(dir, hex.EncodeToString(b))
	if err := os.WriteFile(f, nil, 0o666); err != nil {
		return "", err
	}
	return f, os.Chmod(f, 0o666)
}

// writeHosts writes the pod's /etc/hosts as upstream's kubelet does.
func (m *Manager) writeHosts(pod *corev1.Pod) (string, error) {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	hostname := pod.Spec.Hostname
	if hostname == "" {
		hostname = pod.Name
	}
	if ip := pod.Status.PodIP; ip != "" {
		if pod.Spec.Subdomain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, hostname, pod.Spec.Subdomain, pod.Namespace, m.cfg.ClusterDomain, hostname)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	dir := m.podDir(pod)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f := filepath.Join(dir, "etc-hosts")
	return f, os.WriteFile(f, []byte(b.String()), 0o644)
}

// Teardown unmounts what Setup mounted and removes the pod's directory.
func (m *Manager) Teardown(_ context.Context, pod *corev1.Pod) error {
	dir := m.podDir(pod)
	for _, mp := range mountsUnder(dir) {
		if err := syscall.Unmount(mp, 0); err != nil {
			if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount %s: %w", mp, err)
			}
		}
	}
	m.tokens.forget(pod)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// mountsUnder lists mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.HasPrefix(fields[1], dir+"/") {
			out = append(out, fields[1])
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func expandEnv(s string, env []corev1.EnvVar) string {
	vals := make(map[string]string, len(env))
	for _, e := range env {
		vals[e.Name] = e.Value
	}
	return envvars.Expand(s, vals)
}
