package cri

import (
	"context"
	"fmt"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Version asks the runtime its name and version; it is also the readiness check.
func (c *Client) Version(ctx context.Context) (*runtimeapi.VersionResponse, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		return nil, fmt.Errorf("CRI Version at %s: %w", c.endpoint, err)
	}
	return resp, nil
}

// Status reports the runtime's conditions (RuntimeReady, NetworkReady).
func (c *Client) Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.Status(ctx, &runtimeapi.StatusRequest{Verbose: verbose})
	if err != nil {
		return nil, fmt.Errorf("CRI Status: %w", err)
	}
	return resp, nil
}

// UpdateRuntimeConfig tells the runtime the node's pod CIDR.
func (c *Client) UpdateRuntimeConfig(ctx context.Context, podCIDR string) error {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	_, err := c.runtime.UpdateRuntimeConfig(ctx, &runtimeapi.UpdateRuntimeConfigRequest{
		RuntimeConfig: &runtimeapi.RuntimeConfig{NetworkConfig: &runtimeapi.NetworkConfig{PodCidr: podCIDR}},
	})
	if err != nil {
		return fmt.Errorf("CRI UpdateRuntimeConfig pod CIDR %s: %w", podCIDR, err)
	}
	return nil
}

// RunPodSandbox creates and starts a pod sandbox (its namespaces, network and
// pause container) and returns its id.
func (c *Client) RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: config, RuntimeHandler: runtimeHandler})
	if err != nil {
		return "", fmt.Errorf("CRI RunPodSandbox for %s: %w", sandboxName(config), err)
	}
	return resp.PodSandboxId, nil
}

// StopPodSandbox stops every container of the sandbox and tears down its network.
func (c *Client) StopPodSandbox(ctx context.Context, podSandboxID string) error {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	if _, err := c.runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: podSandboxID}); err != nil {
		return fmt.Errorf("CRI StopPodSandbox %s: %w", podSandboxID, err)
	}
	return nil
}

// RemovePodSandbox removes a sandbox and its containers.
func (c *Client) RemovePodSandbox(ctx context.Context, podSandboxID string) error {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	if _, err := c.runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podSandboxID}); err != nil {
		return fmt.Errorf("CRI RemovePodSandbox %s: %w", podSandboxID, err)
	}
	return nil
}

// PodSandboxStatus returns a sandbox's state and network status.
func (c *Client) PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: podSandboxID, Verbose: verbose})
	if err != nil {
		return nil, fmt.Errorf("CRI PodSandboxStatus %s: %w", podSandboxID, err)
	}
	return resp, nil
}

// ListPodSandbox lists the sandboxes that match filter (nil: all).
func (c *Client) ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("CRI ListPodSandbox: %w", err)
	}
	return resp.Items, nil
}

// CreateContainer creates a container in a sandbox and returns its id.
func (c *Client) CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: podSandboxID, Config: config, SandboxConfig: sandboxConfig,
	})
	if err != nil {
		return "", fmt.Errorf("CRI CreateContainer %s in %s: %w", containerName(config), sandboxName(sandboxConfig), err)
	}
	return resp.ContainerId, nil
}

// StartContainer starts a created container.
func (c *Client) StartContainer(ctx context.Context, containerID string) error {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	if _, err := c.runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: containerID}); err != nil {
		return fmt.Errorf("CRI StartContainer %s: %w", containerID, err)
	}
	return nil
}

// StopContainer sends the stop signal and kills the container after
// gracePeriod (whole seconds, as the CRI counts them).
func (c *Client) StopContainer(ctx context.Context, containerID string, gracePeriod time.Duration) error {
	ctx, cancel := c.call(ctx, gracePeriod)
	defer cancel()
	secs := int64((gracePeriod + time.Second - 1) / time.Second)
	if _, err := c.runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: containerID, Timeout: secs}); err != nil {
		return fmt.Errorf("CRI StopContainer %s: %w", containerID, err)
	}
	return nil
}

// RemoveContainer removes a container, killing it first if it still runs.
func (c *Client) RemoveContainer(ctx context.Context, containerID string) error {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	if _, err := c.runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: containerID}); err != nil {
		return fmt.Errorf("CRI RemoveContainer %s: %w", containerID, err)
	}
	return nil
}

// ListContainers lists the containers that match filter (nil: all).
func (c *Client) ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("CRI ListContainers: %w", err)
	}
	return resp.Containers, nil
}

// ContainerStatus returns a container's state, exit code and log path.
func (c *Client) ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: containerID, Verbose: verbose})
	if err != nil {
		return nil, fmt.Errorf("CRI ContainerStatus %s: %w", containerID, err)
	}
	return resp, nil
}

// UpdateContainerResources changes a running container's cgroup limits.
func (c *Client) UpdateContainerResources(ctx context.Context, containerID string, linux *runtimeapi.LinuxContainerResources) error {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	if _, err := c.runtime.UpdateContainerResources(ctx, &runtimeapi.UpdateContainerResourcesRequest{ContainerId: containerID, Linux: linux}); err != nil {
		return fmt.Errorf("CRI UpdateContainerResources %s: %w", containerID, err)
	}
	return nil
}

// ReopenContainerLog makes the runtime reopen a container's log file, after
// the agent rotated it.
func (c *Client) ReopenContainerLog(ctx context.Context, containerID string) error {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	if _, err := c.runtime.ReopenContainerLog(ctx, &runtimeapi.ReopenContainerLogRequest{ContainerId: containerID}); err != nil {
		return fmt.Errorf("CRI ReopenContainerLog %s: %w", containerID, err)
	}
	return nil
}

// ExecSync runs cmd in a container and waits for it, at most timeout (zero:
// no limit but the client's). A non-zero exit code is not an error.
func (c *Client) ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (*runtimeapi.ExecSyncResponse, error) {
	ctx, cancel := c.call(ctx, timeout)
	defer cancel()
	secs := int64((timeout + time.Second - 1) / time.Second)
	resp, err := c.runtime.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: containerID, Cmd: cmd, Timeout: secs})
	if err != nil {
		return nil, fmt.Errorf("CRI ExecSync %q in %s: %w", cmd, containerID, err)
	}
	return resp, nil
}

// Exec prepares a streaming exec and returns the URL to stream it from.
func (c *Client) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (string, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.Exec(ctx, req)
	if err != nil {
		return "", fmt.Errorf("CRI Exec %q in %s: %w", req.GetCmd(), req.GetContainerId(), err)
	}
	return resp.Url, nil
}

// Attach prepares a streaming attach and returns the URL to stream it from.
func (c *Client) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (string, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.Attach(ctx, req)
	if err != nil {
		return "", fmt.Errorf("CRI Attach %s: %w", req.GetContainerId(), err)
	}
	return resp.Url, nil
}

// PortForward prepares a port forward into a sandbox and returns its URL.
func (c *Client) PortForward(ctx context.Context, podSandboxID string, ports []int32) (string, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: podSandboxID, Port: ports})
	if err != nil {
		return "", fmt.Errorf("CRI PortForward %v of %s: %w", ports, podSandboxID, err)
	}
	return resp.Url, nil
}

// ContainerStats returns one container's resource usage.
func (c *Client) ContainerStats(ctx context.Context, containerID string) (*runtimeapi.ContainerStats, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.ContainerStats(ctx, &runtimeapi.ContainerStatsRequest{ContainerId: containerID})
	if err != nil {
		return nil, fmt.Errorf("CRI ContainerStats %s: %w", containerID, err)
	}
	return resp.Stats, nil
}

// ListContainerStats returns the usage of the containers that match filter (nil: all).
func (c *Client) ListContainerStats(ctx context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("CRI ListContainerStats: %w", err)
	}
	return resp.Stats, nil
}

// ListPodSandboxStats returns the usage of the sandboxes that match filter (nil: all).
func (c *Client) ListPodSandboxStats(ctx context.Context, filter *runtimeapi.PodSandboxStatsFilter) ([]*runtimeapi.PodSandboxStats, error) {
	ctx, cancel := c.call(ctx, 0)
	defer cancel()
	resp, err := c.runtime.ListPodSandboxStats(ctx, &runtimeapi.ListPodSandboxStatsRequest{Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("CRI ListPodSandboxStats: %w", err)
	}
	return resp.Stats, nil
}

// sandboxName names a sandbox in errors as namespace/name.
func sandboxName(config *runtimeapi.PodSandboxConfig) string {
	m := config.GetMetadata()
	if m == nil {
		return "pod without metadata"
	}
	return m.Namespace + "/" + m.Name
}

// containerName names a container in errors.
func containerName(config *runtimeapi.ContainerConfig) string {
	if m := config.GetMetadata(); m != nil {
		return "container " + m.Name
	}
	return "container without metadata"
}
