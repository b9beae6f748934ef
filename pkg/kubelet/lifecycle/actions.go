package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Actions is what a pod needs from the runtime now.
type Actions struct {
	// KillPod stops every container and the sandbox (before a new sandbox, or
	// because the pod is done).
	KillPod bool
	// CreateSandbox starts a new sandbox with SandboxAttempt.
	CreateSandbox  bool
	SandboxAttempt uint32
	// StartInit is the init container to start next (index), or -1.
	StartInit int
	// Start lists app containers (indexes into spec.containers) to start.
	Start []int
	// StartEphemeral lists ephemeral containers (indexes into
	// spec.ephemeralContainers) to start in the running sandbox.
	StartEphemeral []int
	// Kill lists running container instances to stop, with why.
	Kill []Kill
	// Waiting lists containers held back by back-off, with when they may start.
	Waiting map[string]time.Time
	// Requeue says when to look at the pod again (0: when something changes).
	Requeue time.Duration
}

// Kill is a container instance to stop.
type Kill struct {
	ID, Name string
	// Reason and Message go into the Killing event.
	Reason, Message string
}

// Inputs are what ComputeActions decides from, besides the pod and its runtime view.
type Inputs struct {
	Now     time.Time
	Backoff *Backoff
	// Unhealthy names running containers whose liveness or startup probe failed.
	Unhealthy map[string]string
}

// ContainerHash identifies the parts of a container spec whose change needs a new
// container (everything but resources, which can change in place).
func ContainerHash(c *corev1.Container) string {
	cc := c.DeepCopy()
	cc.Resources = corev1.ResourceRequirements{}
	cc.ResizePolicy = nil
	data, _ := json.Marshal(cc)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// BackoffKey names a container's back-off entry.
func BackoffKey(pod *corev1.Pod, container string) string {
	return string(pod.UID) + "/" + container
}

// ComputeActions decides the next steps for a pod that is not being deleted:
// a sandbox if it has none, init containers one at a time in order, then every app
// container, restarting exited ones as the restart policy says, after back-off;
// ephemeral containers once each into a running sandbox.
func ComputeActions(pod *corev1.Pod, rt *Pod, in Inputs) Actions {
	a := Actions{StartInit: -1, Waiting: map[string]time.Time{}}
	sb := rt.Sandbox()
	if sb == nil || !sb.Ready {
		if sb != nil && podFinished(pod, rt) {
			// A finished pod whose sandbox went away stays finished.
			return a
		}
		a.CreateSandbox = true
		if sb != nil {
			a.SandboxAttempt = sb.Attempt + 1
			a.KillPod = true
		}
		if len(pod.Spec.InitContainers) > 0 {
			a.StartInit = 0
			return a
		}
		for i := range pod.Spec.Containers {
			a.Start = append(a.Start, i)
		}
		return a
	}

	// Ephemeral containers start once each, whatever the init containers do, and
	// are never restarted, as upstream: an instance of any kind means it ran.
	for i := range pod.Spec.EphemeralContainers {
		if rt.Latest(pod.Spec.EphemeralContainers[i].Name) == nil {
			a.StartEphemeral = append(a.StartEphemeral, i)
		}
	}

	// Init containers: the first one not yet succeeded runs; a failed one is retried
	// unless the policy is Never, which fails the pod.
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if isSidecar(c) {
			continue
		}
		inst := rt.Latest(c.Name)
		switch {
		case inst == nil:
			a.StartInit = i
			return a
		case inst.Phase == ContainerRunning || inst.Phase == ContainerCreated:
			if reason, bad := in.Unhealthy[c.Name]; bad {
				a.Kill = append(a.Kill, Kill{ID: inst.ID, Name: c.Name, Reason: "Unhealthy", Message: reason})
			}
			return a
		case inst.Phase == ContainerExited && inst.ExitCode == 0:
			continue
		default:
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				return a
			}
			if wait, until := in.Backoff.InBackoff(BackoffKey(pod, c.Name), inst.FinishedAt, in.Now); wait {
				a.Waiting[c.Name] = until
				a.Requeue = until.Sub(in.Now)
				return a
			}
			a.StartInit = i
			return a
		}
	}

	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		inst := rt.Latest(c.Name)
		if inst == nil {
			a.Start = append(a.Start, i)
			continue
		}
		switch inst.Phase {
		case ContainerRunning, ContainerCreated:
			if reason, bad := in.Unhealthy[c.Name]; bad {
				a.Kill = append(a.Kill, Kill{ID: inst.ID, Name: c.Name, Reason: "Unhealthy", Message: reason})
				continue
			}
			if inst.Hash != "" && inst.Hash != ContainerHash(c) {
				a.Kill = append(a.Kill, Kill{ID: inst.ID, Name: c.Name, Reason: "Killing",
					Message: "Container " + c.Name + " definition changed, will be restarted"})
			}
		default:
			if !shouldRestart(pod.Spec.RestartPolicy, inst) {
				continue
			}
			if wait, until := in.Backoff.InBackoff(BackoffKey(pod, c.Name), inst.FinishedAt, in.Now); wait {
				a.Waiting[c.Name] = until
				if d := until.Sub(in.Now); a.Requeue == 0 || d < a.Requeue {
					a.Requeue = d
				}
				continue
			}
			a.Start = append(a.Start, i)
		}
	}
	return a
}

func shouldRestart(policy corev1.RestartPolicy, inst *Container) bool {
	switch policy {
	case corev1.RestartPolicyAlways:
		return true
	case corev1.RestartPolicyOnFailure:
		return inst.ExitCode != 0
	}
	return false
}

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// podFinished reports whether no container of the pod will ever run again.
func podFinished(pod *corev1.Pod, rt *Pod) bool {
	if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
		return false
	}
	for i := range pod.Spec.Containers {
		inst := rt.Latest(pod.Spec.Containers[i].Name)
		if inst == nil || inst.Phase != ContainerExited || shouldRestart(pod.Spec.RestartPolicy, inst) {
			return false
		}
	}
	return true
}

// EphemeralAsContainer views an ephemeral container as the container it runs as:
// the two share every field but the target.
func EphemeralAsContainer(ec *corev1.EphemeralContainer) *corev1.Container {
	return (*corev1.Container)(&ec.EphemeralContainerCommon)
}
