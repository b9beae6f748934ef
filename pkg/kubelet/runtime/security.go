package runtime

import (
	"os"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Paths hidden from and read-only in unprivileged containers, as upstream's
// defaults (ProcMountType Default).
var (
	defaultMaskedPaths = []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	defaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// containerSecurity merges the pod's and the container's security contexts.
func containerSecurity(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerSecurityContext {
	s := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaceOptions(pod)}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			s.RunAsUser = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
		}
		if psc.RunAsGroup != nil {
			s.RunAsGroup = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
		}
		if psc.RunAsNonRoot != nil && *psc.RunAsNonRoot {
			s.RunAsUsername = ""
		}
		s.SupplementalGroups = append(s.SupplementalGroups, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			s.SupplementalGroups = append(s.SupplementalGroups, *psc.FSGroup)
		}
	}
	privileged := false
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			s.RunAsUser = &runtimeapi.Int64Value{Value: *sc.RunAsUser}
		}
		if sc.RunAsGroup != nil {
			s.RunAsGroup = &runtimeapi.Int64Value{Value: *sc.RunAsGroup}
		}
		if sc.Privileged != nil && *sc.Privileged {
			privileged = true
			s.Privileged = true
		}
		if sc.ReadOnlyRootFilesystem != nil {
			s.ReadonlyRootfs = *sc.ReadOnlyRootFilesystem
		}
		if sc.AllowPrivilegeEscalation != nil {
			s.NoNewPrivs = !*sc.AllowPrivilegeEscalation
		}
		if caps := sc.Capabilities; caps != nil {
			s.Capabilities = &runtimeapi.Capability{}
			for _, a := range caps.Add {
				s.Capabilities.AddCapabilities = append(s.Capabilities.AddCapabilities, capName(a))
			}
			for _, d := range caps.Drop {
				s.Capabilities.DropCapabilities = append(s.Capabilities.DropCapabilities, capName(d))
			}
		}
	}
	if !privileged {
		s.MaskedPaths = defaultMaskedPaths
		s.ReadonlyPaths = defaultReadonlyPaths
	}
	return s
}

func capName(c corev1.Capability) string {
	n := strings.ToUpper(string(c))
	if n == "ALL" || strings.HasPrefix(n, "CAP_") {
		return n
	}
	return "CAP_" + n
}

var (
	memOnce  sync.Once
	memBytes int64
)

// nodeMemory is the machine's memory in bytes, for OOM score arithmetic.
func nodeMemory() int64 {
	memOnce.Do(func() {
		data, err := os.ReadFile("/proc/meminfo")
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					memBytes = kb * 1024
				}
			}
		}
	})
	return memBytes
}
