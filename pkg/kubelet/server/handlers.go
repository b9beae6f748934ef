package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	kubeletruntime "github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// serveContainerLogs answers /containerLogs/{ns}/{pod}/{container} from the CRI log
// file of the instance upstream's kubelet would pick.
func (s *Server) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	ns, podName, name := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	opts, err := ParseLogOptions(r.URL.Query(), time.Now())
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errInvalidLogOptions) {
			code = http.StatusUnprocessableEntity
		}
		writeText(w, code, err.Error())
		return
	}
	ctx := r.Context()
	pod, err := s.getPod(ctx, ns, podName, "")
	if err != nil {
		writeErr(w, err)
		return
	}
	if !specHas(pod, name) {
		writeText(w, http.StatusNotFound, fmt.Sprintf("container %q not found in pod %q", name, podName))
		return
	}
	id, err := s.logInstance(ctx, pod, name, opts.Previous)
	if err != nil {
		writeErr(w, err)
		return
	}
	st, err := s.cfg.Runtime.ContainerStatus(ctx, id, false)
	if err != nil {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("container %q in pod %q: %v", name, podName, err))
		return
	}
	path := st.GetStatus().GetLogPath()
	if path == "" {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("container %q in pod %q has no log file", name, podName))
		return
	}
	running := func() bool {
		st, err := s.cfg.Runtime.ContainerStatus(context.WithoutCancel(ctx), id, false)
		return err == nil && st.GetStatus().GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	if opts.Follow && !running() {
		// An exited container writes nothing more: the answer ends with its file.
		opts.Follow = false
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	flush := func() { _ = rc.Flush() }
	if err := ReadLogs(ctx, path, opts, w, flush, running); err != nil {
		// The status is sent; all that is left is to say so in the agent's log.
		s.log.Info("read container log", "pod", ns+"/"+podName, "container", name, "err", err)
	}
}

// logInstance picks the runtime container whose log to read, by the pod's status as
// upstream's kubelet does, asking the runtime when the status lags behind it.
func (s *Server) logInstance(ctx context.Context, pod *corev1.Pod, name string, previous bool) (string, error) {
	cs := findStatus(pod, name)
	if cs == nil {
		if id := s.runtimeInstance(ctx, pod, name, previous); id != "" {
			return id, nil
		}
		return "", badRequest("container %q in pod %q is not available", name, pod.Name)
	}
	last := cs.LastTerminationState.Terminated
	switch {
	case previous:
		if last != nil && last.ContainerID != "" {
			return runtimeID(last.ContainerID), nil
		}
		if id := s.runtimeInstance(ctx, pod, name, true); id != "" {
			return id, nil
		}
		return "", badRequest("previous terminated container %q in pod %q not found", name, pod.Name)
	case cs.State.Running != nil && cs.ContainerID != "":
		return runtimeID(cs.ContainerID), nil
	case cs.State.Terminated != nil:
		if cs.State.Terminated.ContainerID != "" {
			return runtimeID(cs.State.Terminated.ContainerID), nil
		}
		if last != nil && last.ContainerID != "" {
			return runtimeID(last.ContainerID), nil
		}
		return "", badRequest("container %q in pod %q is terminated", name, pod.Name)
	case last != nil:
		if last.ContainerID == "" {
			return "", badRequest("container %q in pod %q is terminated", name, pod.Name)
		}
		return runtimeID(last.ContainerID), nil
	}
	if id := s.runtimeInstance(ctx, pod, name, false); id != "" {
		return id, nil
	}
	if cs.State.Waiting != nil {
		switch reason := cs.State.Waiting.Reason; reason {
		case "ErrImagePull":
			return "", badRequest("container %q in pod %q is waiting to start: image can't be pulled", name, pod.Name)
		case "ImagePullBackOff":
			return "", badRequest("container %q in pod %q is waiting to start: trying and failing to pull image", name, pod.Name)
		default:
			return "", badRequest("container %q in pod %q is waiting to start: %s", name, pod.Name, reason)
		}
	}
	return "", badRequest("container %q in pod %q is waiting to start - no logs yet", name, pod.Name)
}

func findStatus(pod *corev1.Pod, name string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// runtimeInstance returns the newest started instance of a container (previous:
// the exited one before it) as the runtime has them, or "".
func (s *Server) runtimeInstance(ctx context.Context, pod *corev1.Pod, name string, previous bool) string {
	list, err := s.cfg.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{
		kubeletruntime.LabelPodUID: string(pod.UID), kubeletruntime.LabelContainerName: name}})
	if err != nil {
		return ""
	}
	sort.Slice(list, func(i, j int) bool {
		ai, aj := list[i].GetMetadata().GetAttempt(), list[j].GetMetadata().GetAttempt()
		if ai != aj {
			return ai > aj
		}
		return list[i].CreatedAt > list[j].CreatedAt
	})
	if previous {
		if len(list) > 1 && list[1].State == runtimeapi.ContainerState_CONTAINER_EXITED {
			return list[1].Id
		}
		return ""
	}
	if len(list) > 0 && list[0].State != runtimeapi.ContainerState_CONTAINER_CREATED {
		return list[0].Id
	}
	return ""
}

// runningContainer returns the running instance of a container, or "".
func (s *Server) runningContainer(ctx context.Context, pod *corev1.Pod, name string) (string, error) {
	list, err := s.cfg.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
		LabelSelector: map[string]string{
			kubeletruntime.LabelPodUID: string(pod.UID), kubeletruntime.LabelContainerName: name}})
	if err != nil {
		return "", fmt.Errorf("list the containers of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if len(list) == 0 {
		return "", fmt.Errorf("container not found (%q)", name)
	}
	return list[0].Id, nil
}

// streamOptions reads which streams an exec or attach wants; the API server sends
// input/output/error/tty, clients of the kubelet may say stdin/stdout/stderr.
type streamOptions struct {
	stdin, stdout, stderr, tty bool
}

func parseStreamOptions(q url.Values) (streamOptions, error) {
	flag := func(names ...string) bool {
		for _, n := range names {
			switch q.Get(n) {
			case "1", "true", "True":
				return true
			}
		}
		return false
	}
	o := streamOptions{
		stdin:  flag("input", "stdin"),
		stdout: flag("output", "stdout"),
		stderr: flag("error", "stderr"),
		tty:    flag("tty"),
	}
	if o.tty {
		// A terminal merges stderr into stdout.
		o.stderr = false
	}
	if !o.stdin && !o.stdout && !o.stderr {
		return o, errors.New("you must specify at least 1 of stdin, stdout, stderr")
	}
	return o, nil
}

// serveExec starts a command in a running container and hands the stream to the
// runtime's streaming server.
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		writeText(w, http.StatusBadRequest, "you must specify at least 1 command")
		return
	}
	s.streamContainer(w, r, func(ctx context.Context, id string, o streamOptions) (string, error) {
		return s.cfg.Runtime.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: id, Cmd: cmd,
			Tty: o.tty, Stdin: o.stdin, Stdout: o.stdout, Stderr: o.stderr})
	})
}

// serveAttach attaches to a running container's main process.
func (s *Server) serveAttach(w http.ResponseWriter, r *http.Request) {
	s.streamContainer(w, r, func(ctx context.Context, id string, o streamOptions) (string, error) {
		return s.cfg.Runtime.Attach(ctx, &runtimeapi.AttachRequest{ContainerId: id,
			Tty: o.tty, Stdin: o.stdin, Stdout: o.stdout, Stderr: o.stderr})
	})
}

// streamContainer finds the running container a request names, asks the
// runtime for a stream into it with start, and proxies the request there.
func (s *Server) streamContainer(w http.ResponseWriter, r *http.Request,
	start func(ctx context.Context, id string, o streamOptions) (string, error)) {
	opts, err := parseStreamOptions(r.URL.Query())
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	pod, err := s.getPod(ctx, r.PathValue("ns"), r.PathValue("pod"), r.PathValue("uid"))
	if err != nil {
		writeErr(w, err)
		return
	}
	id, err := s.runningContainer(ctx, pod, r.PathValue("container"))
	if err != nil {
		writeErr(w, err)
		return
	}
	target, err := start(ctx, id, opts)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.proxyStream(w, r, target)
}

// servePortForward forwards ports of a pod's network namespace; the ports are
// named per stream by the client, or up front with ?port=.
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pod, err := s.getPod(ctx, r.PathValue("ns"), r.PathValue("pod"), r.PathValue("uid"))
	if err != nil {
		writeErr(w, err)
		return
	}
	var ports []int32
	for _, p := range r.URL.Query()["port"] {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("invalid port %q", p))
			return
		}
		ports = append(ports, int32(n))
	}
	sandboxes, err := s.cfg.Runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{
		State:         &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
		LabelSelector: map[string]string{kubeletruntime.LabelPodUID: string(pod.UID)}})
	if err != nil {
		writeErr(w, fmt.Errorf("list the sandboxes of pod %s/%s: %w", pod.Namespace, pod.Name, err))
		return
	}
	if len(sandboxes) == 0 {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("pod %q has no running sandbox", pod.Name))
		return
	}
	sort.Slice(sandboxes, func(i, j int) bool { return sandboxes[i].CreatedAt > sandboxes[j].CreatedAt })
	target, err := s.cfg.Runtime.PortForward(ctx, sandboxes[0].Id, ports)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.proxyStream(w, r, target)
}

// streamTransport reaches the runtime's streaming server on loopback: HTTP/1.1
// (the streams upgrade the connection) and never through a proxy.
var streamTransport = &http.Transport{
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	ResponseHeaderTimeout: 30 * time.Second,
	MaxIdleConns:          4,
	IdleConnTimeout:       30 * time.Second,
}

// proxyStream passes the request, upgrade and all, to the runtime's URL for it.
// Upstream's kubelet proxies the same way rather than redirecting the client.
func (s *Server) proxyStream(w http.ResponseWriter, r *http.Request, target string) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("the runtime answered an unusable stream URL %q", target))
		return
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := *u
			pr.Out.URL = &out
			pr.Out.Host = u.Host
			// The runtime knows the request by its token; our credentials are no business of it.
			pr.Out.Header.Del("Authorization")
		},
		Transport:     streamTransport,
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeText(w, http.StatusBadGateway, fmt.Sprintf("stream from the container runtime: %v", err))
		},
	}
	rp.ServeHTTP(w, r)
}
