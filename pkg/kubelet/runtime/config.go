package runtime

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
)

// Options are the node-wide settings sandbox and container configurations use.
type Options struct {
	NodeName string
	// LogRoot holds one directory of container logs per pod.
	LogRoot string
	// CgroupDriver is "cgroupfs" or "systemd", as containerd's.
	CgroupDriver string
	// ClusterDNS are the DNS servers of ClusterFirst pods; empty falls back to the host's.
	ClusterDNS    []string
	ClusterDomain string
	// ResolvConf is the host's resolver configuration for dnsPolicy Default
	// (empty: /etc/resolv.conf).
	ResolvConf string
	// DNSWarning, when set, records what PodDNS had to cut from a pod's
	// resolver configuration (upstream's DNSConfigForming events).
	DNSWarning func(pod *corev1.Pod, w DNSWarning)
}

// PodLogDir is where a pod's container logs live, as upstream lays them out.
func (o *Options) PodLogDir(pod *corev1.Pod) string {
	return filepath.Join(o.LogRoot, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// ContainerLogPath is a container instance's log file relative to the pod's log dir.
func ContainerLogPath(name string, attempt uint32) string {
	return filepath.Join(name, strconv.Itoa(int(attempt))+".log")
}

// SandboxConfig is the CRI configuration of a pod's sandbox.
func SandboxConfig(o *Options, pod *corev1.Pod, attempt uint32) (*runtimeapi.PodSandboxConfig, error) {
	labels := map[string]string{}
	for k, v := range pod.Labels {
		labels[k] = v
	}
	labels[LabelPodName] = pod.Name
	labels[LabelPodNamespace] = pod.Namespace
	labels[LabelPodUID] = string(pod.UID)
	annotations := map[string]string{AnnotationConfigSource: "api"}
	for k, v := range pod.Annotations {
		annotations[k] = v
	}
	hostname := pod.Spec.Hostname
	if hostname == "" {
		hostname = pod.Name
		if len(hostname) > 63 {
			hostname = strings.TrimRight(hostname[:63], "-.")
		}
	}
	if pod.Spec.HostNetwork {
		// The pod shares the node's UTS namespace: it already has the node's name,
		// and the runtime refuses to set one there.
		hostname = ""
	}
	dns, err := o.dnsConfig(pod)
	if err != nil {
		return nil, err
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt},
		Hostname:     hostname,
		LogDirectory: o.PodLogDir(pod),
		DnsConfig:    dns,
		Labels:       labels,
		Annotations:  annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: o.podCgroupParent(pod),
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: namespaceOptions(pod),
				Privileged:       anyPrivileged(pod),
			},
			Sysctls: map[string]string{},
		},
	}
	if sc := pod.Spec.SecurityContext; sc != nil {
		for _, s := range sc.Sysctls {
			cfg.Linux.Sysctls[s.Name] = s.Value
		}
		lsc := cfg.Linux.SecurityContext
		if sc.RunAsUser != nil {
			lsc.RunAsUser = &runtimeapi.Int64Value{Value: *sc.RunAsUser}
		}
		if sc.RunAsGroup != nil {
			lsc.RunAsGroup = &runtimeapi.Int64Value{Value: *sc.RunAsGroup}
		}
		lsc.SupplementalGroups = sc.SupplementalGroups
		if sc.FSGroup != nil {
			lsc.SupplementalGroups = append(lsc.SupplementalGroups, *sc.FSGroup)
		}
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			cfg.PortMappings = append(cfg.PortMappings, &runtimeapi.PortMapping{
				Protocol: protocol(p.Protocol), ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIp: p.HostIP,
			})
		}
	}
	return cfg, nil
}

func protocol(p corev1.Protocol) runtimeapi.Protocol {
	switch p {
	case corev1.ProtocolUDP:
		return runtimeapi.Protocol_UDP
	case corev1.ProtocolSCTP:
		return runtimeapi.Protocol_SCTP
	}
	return runtimeapi.Protocol_TCP
}

func namespaceOptions(pod *corev1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostPID {
		ns.Pid = runtimeapi.NamespaceMode_NODE
	} else if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

func anyPrivileged(pod *corev1.Pod) bool {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				return true
			}
		}
	}
	return false
}

// qosClass returns the pod's QoS class, computing it if the status lacks it.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	requests, limits := false, false
	guaranteed := true
	for _, c := range pod.Spec.Containers {
		if len(c.Resources.Requests) > 0 {
			requests = true
		}
		if len(c.Resources.Limits) > 0 {
			limits = true
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			l, ok := c.Resources.Limits[r]
			if !ok {
				guaranteed = false
				continue
			}
			if q, ok := c.Resources.Requests[r]; ok && q.Cmp(l) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !requests && !limits:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// podCgroupParent places the pod under kubepods/<qos> like upstream.
func (o *Options) podCgroupParent(pod *corev1.Pod) string {
	qos := qosClass(pod)
	uid := string(pod.UID)
	if o.CgroupDriver == "systemd" {
		uid = strings.ReplaceAll(uid, "-", "_")
		switch qos {
		case corev1.PodQOSGuaranteed:
			return "kubepods-pod" + uid + ".slice"
		case corev1.PodQOSBurstable:
			return "kubepods-burstable-pod" + uid + ".slice"
		}
		return "kubepods-besteffort-pod" + uid + ".slice"
	}
	switch qos {
	case corev1.PodQOSGuaranteed:
		return "/kubepods/pod" + uid
	case corev1.PodQOSBurstable:
		return "/kubepods/burstable/pod" + uid
	}
	return "/kubepods/besteffort/pod" + uid
}

// dnsConfig applies the pod's dnsPolicy and dnsConfig (see PodDNS); the
// limits it had to apply are reported through DNSWarning.
func (o *Options) dnsConfig(pod *corev1.Pod) (*runtimeapi.DNSConfig, error) {
	host, err := o.hostDNS()
	if err != nil {
		return nil, err
	}
	cfg, warnings := PodDNS(pod, o.ClusterDNS, o.ClusterDomain, host)
	if o.DNSWarning != nil {
		for _, w := range warnings {
			o.DNSWarning(pod, w)
		}
	}
	return cfg, nil
}

// readResolvConf parses a resolv.conf; a missing file is an empty configuration.
func readResolvConf(path string) (*runtimeapi.DNSConfig, error) {
	cfg := &runtimeapi.DNSConfig{}
	if path == "" {
		path = "/etc/resolv.conf"
	}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			cfg.Servers = append(cfg.Servers, fields[1])
		case "search":
			cfg.Searches = fields[1:]
		case "options":
			cfg.Options = append(cfg.Options, fields[1:]...)
		}
	}
	return cfg, nil
}

// ContainerInputs are the parts of a container's configuration computed elsewhere:
// environment, mounts and devices.
type ContainerInputs struct {
	Env     []*runtimeapi.KeyValue
	Mounts  []*runtimeapi.Mount
	Devices []*runtimeapi.Device
	// Command and Args after $(VAR) expansion.
	Command, Args []string
	// Image is the reference to run (resolved to what the runtime has).
	Image string
	// TargetID is the runtime ID of the container whose process namespace an
	// ephemeral container joins (its targetContainerName), if any.
	TargetID string
}

// ContainerConfig is the CRI configuration of one container instance.
func ContainerConfig(pod *corev1.Pod, c *corev1.Container, attempt uint32, in ContainerInputs) *runtimeapi.ContainerConfig {
	labels := map[string]string{
		LabelPodName: pod.Name, LabelPodNamespace: pod.Namespace, LabelPodUID: string(pod.UID), LabelContainerName: c.Name,
	}
	grace := int64(30)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	annotations := map[string]string{
		AnnotationHash:        lifecycle.ContainerHash(c),
		AnnotationRestarts:    strconv.Itoa(int(attempt)),
		AnnotationTermPath:    c.TerminationMessagePath,
		AnnotationTermPolicy:  string(c.TerminationMessagePolicy),
		AnnotationGracePeriod: strconv.FormatInt(grace, 10),
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: attempt},
		Image:       &runtimeapi.ImageSpec{Image: in.Image, UserSpecifiedImage: c.Image},
		Command:     in.Command,
		Args:        in.Args,
		WorkingDir:  c.WorkingDir,
		Envs:        in.Env,
		Mounts:      in.Mounts,
		Devices:     in.Devices,
		Labels:      labels,
		Annotations: annotations,
		LogPath:     ContainerLogPath(c.Name, attempt),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       LinuxResources(pod, c),
			SecurityContext: containerSecurity(pod, c),
		},
	}
	if ns := cfg.Linux.SecurityContext.NamespaceOptions; in.TargetID != "" && ns != nil && ns.Pid == runtimeapi.NamespaceMode_CONTAINER {
		// A debugging container sees its target's processes; with a pod-wide or
		// host PID namespace it already does.
		ns.Pid, ns.TargetId = runtimeapi.NamespaceMode_TARGET, in.TargetID
	}
	return cfg
}
