package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
)

// CRI is the part of the CRI client the agent uses; *cri.Client implements it.
type CRI interface {
	RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error)
	StopPodSandbox(ctx context.Context, id string) error
	RemovePodSandbox(ctx context.Context, id string) error
	PodSandboxStatus(ctx context.Context, id string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error)
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	CreateContainer(ctx context.Context, sandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
	StartContainer(ctx context.Context, id string) error
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	RemoveContainer(ctx context.Context, id string) error
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(ctx context.Context, id string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (*runtimeapi.ExecSyncResponse, error)
	ImageStatus(ctx context.Context, ref string) (*runtimeapi.Image, error)
	PullImage(ctx context.Context, ref string, auth *runtimeapi.AuthConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
}

// Snapshot reads what the runtime has of one pod.
func Snapshot(ctx context.Context, rt CRI, uid types.UID) (*lifecycle.Pod, error) {
	sel := map[string]string{LabelPodUID: string(uid)}
	sandboxes, err := rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes of pod %s: %w", uid, err)
	}
	containers, err := rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list containers of pod %s: %w", uid, err)
	}
	p := &lifecycle.Pod{}
	for _, s := range sandboxes {
		sb := lifecycle.Sandbox{ID: s.Id, Attempt: s.GetMetadata().GetAttempt(), CreatedAt: time.Unix(0, s.CreatedAt),
			Ready: s.State == runtimeapi.PodSandboxState_SANDBOX_READY}
		p.Sandboxes = append(p.Sandboxes, sb)
	}
	p.Sort()
	if sb := p.Sandbox(); sb != nil && sb.Ready {
		st, err := rt.PodSandboxStatus(ctx, sb.ID, false)
		if err != nil {
			return nil, fmt.Errorf("status of sandbox %s: %w", sb.ID, err)
		}
		if n := st.GetStatus().GetNetwork(); n != nil {
			if n.Ip != "" {
				sb.IPs = append(sb.IPs, n.Ip)
			}
			for _, ip := range n.AdditionalIps {
				sb.IPs = append(sb.IPs, ip.Ip)
			}
		}
	}
	for _, c := range containers {
		st, err := rt.ContainerStatus(ctx, c.Id, false)
		if err != nil {
			// It may have been removed since the list; the next sync sees it right.
			continue
		}
		p.Containers = append(p.Containers, fromStatus(st.GetStatus(), c))
	}
	p.Sort()
	return p, nil
}

func fromStatus(s *runtimeapi.ContainerStatus, c *runtimeapi.Container) lifecycle.Container {
	out := lifecycle.Container{
		ID:        s.Id,
		Name:      s.GetMetadata().GetName(),
		Attempt:   s.GetMetadata().GetAttempt(),
		CreatedAt: nanos(s.CreatedAt),
		StartedAt: nanos(s.StartedAt),
		ExitCode:  s.ExitCode,
		Reason:    s.Reason,
		Message:   s.Message,
		Image:     s.GetImage().GetImage(),
		ImageRef:  s.ImageRef,
		Hash:      c.GetAnnotations()[AnnotationHash],
	}
	if s.FinishedAt > 0 {
		out.FinishedAt = nanos(s.FinishedAt)
	}
	if s.State == runtimeapi.ContainerState_CONTAINER_EXITED {
		if msg := terminationMessage(s, c.GetAnnotations()); msg != "" {
			out.Message = msg
		}
	}
	switch s.State {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		out.Phase = lifecycle.ContainerCreated
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		out.Phase = lifecycle.ContainerRunning
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		out.Phase = lifecycle.ContainerExited
	default:
		out.Phase = lifecycle.ContainerUnknown
	}
	return out
}

// maxTerminationMessage bounds what is read of a termination message, as upstream.
const maxTerminationMessage = 4096

// terminationMessage reads the file the container wrote its message to, or with
// FallbackToLogsOnError the tail of its log when it failed without one.
func terminationMessage(s *runtimeapi.ContainerStatus, annotations map[string]string) string {
	path := annotations[AnnotationTermPath]
	if path == "" {
		return ""
	}
	for _, m := range s.Mounts {
		if m.ContainerPath != path {
			continue
		}
		if data := readTail(m.HostPath, maxTerminationMessage, false); data != "" {
			return data
		}
	}
	if annotations[AnnotationTermPolicy] == "FallbackToLogsOnError" && s.ExitCode != 0 && s.LogPath != "" {
		return logTail(s.LogPath, 80, 2048)
	}
	return ""
}

func readTail(path string, limit int64, tail bool) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	if tail && fi.Size() > limit {
		_, _ = f.Seek(fi.Size()-limit, 0)
	}
	b, _ := io.ReadAll(io.LimitReader(f, limit))
	return string(b)
}

// logTail returns the last lines of a CRI-format log, without the prefixes.
func logTail(path string, lines int, limit int64) string {
	raw := readTail(path, limit*4, true)
	var out []string
	for _, l := range strings.Split(raw, "\n") {
		// "<time> <stream> <tag> <message>"
		parts := strings.SplitN(l, " ", 4)
		if len(parts) == 4 {
			out = append(out, parts[3])
		}
	}
	if len(out) > lines {
		out = out[len(out)-lines:]
	}
	msg := strings.Join(out, "\n")
	if int64(len(msg)) > limit {
		msg = msg[int64(len(msg))-limit:]
	}
	return msg
}

func nanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
