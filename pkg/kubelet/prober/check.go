// Package prober runs containers' liveness, readiness and startup probes and their
// lifecycle hooks' handlers: exec through the runtime, HTTP GET, TCP and gRPC health
// checks from the node to the pod, as upstream's kubelet does.
package prober

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// Result of one check.
type Result int

// Check results.
const (
	Success Result = iota
	Failure
	Unknown
)

// maxBody bounds what is read of an HTTP answer.
const maxBody = 10 * 1024

// Handler is a probe's or hook's action.
type Handler struct {
	Exec      *corev1.ExecAction
	HTTPGet   *corev1.HTTPGetAction
	TCPSocket *corev1.TCPSocketAction
	Sleep     *corev1.SleepAction
	GRPC      *corev1.GRPCAction
}

// Checker performs handlers against one runtime.
type Checker struct {
	Runtime runtime.CRI
	// UserAgent is sent with HTTP probes, as upstream's "kube-probe/<version>".
	UserAgent string
}

// Run performs a handler for a container; podIP is where network checks go.
// It returns a message for events on failure.
func (c *Checker) Run(ctx context.Context, h Handler, pod *corev1.Pod, container *corev1.Container, containerID, podIP string, timeout time.Duration) (Result, string) {
	switch {
	case h.Exec != nil:
		return c.exec(ctx, containerID, h.Exec.Command, timeout)
	case h.HTTPGet != nil:
		return c.httpGet(ctx, h.HTTPGet, container, podIP, timeout)
	case h.TCPSocket != nil:
		return c.tcp(ctx, h.TCPSocket, container, podIP, timeout)
	case h.GRPC != nil:
		return c.grpcCheck(ctx, h.GRPC, podIP, timeout)
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-ctx.Done():
		}
		return Success, ""
	}
	return Unknown, "missing probe handler"
}

func (c *Checker) exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (Result, string) {
	resp, err := c.Runtime.ExecSync(ctx, id, cmd, timeout)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) || strings.Contains(err.Error(), "DeadlineExceeded") || strings.Contains(err.Error(), "timeout") {
			return Failure, fmt.Sprintf("command timed out: %q timed out after %s", strings.Join(cmd, " "), timeout)
		}
		return Unknown, err.Error()
	}
	if resp.ExitCode != 0 {
		out := strings.TrimSpace(string(resp.Stdout) + string(resp.Stderr))
		return Failure, out
	}
	return Success, ""
}

// resolvePort turns a port name into the container's port number.
func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		if p.IntVal <= 0 || p.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port number: %v", p.IntVal)
		}
		return int(p.IntVal), nil
	}
	if c != nil {
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort), nil
			}
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port: %v in %v", p, c.Name)
}

func (c *Checker) httpGet(ctx context.Context, a *corev1.HTTPGetAction, container *corev1.Container, podIP string, timeout time.Duration) (Result, string) {
	port, err := resolvePort(a.Port, container)
	if err != nil {
		return Unknown, err.Error()
	}
	host := a.Host
	if host == "" {
		host = podIP
	}
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := a.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	if p, err := url.Parse(path); err == nil {
		u.Path, u.RawQuery = p.Path, p.RawQuery
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Failure, err.Error()
	}
	req.Header.Set("User-Agent", c.UserAgent)
	req.Header.Set("Accept", "*/*")
	for _, h := range a.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true,
			Proxy: nil},
		// Redirects to other hosts are not followed, as upstream: they count as success.
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Hostname() != u.Hostname() || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Failure, fmt.Sprintf("Get %q: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", u.String())
		}
		return Failure, fmt.Sprintf("Get %q: %v", u.String(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return Success, ""
	}
	_ = body
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Checker) tcp(ctx context.Context, a *corev1.TCPSocketAction, container *corev1.Container, podIP string, timeout time.Duration) (Result, string) {
	port, err := resolvePort(a.Port, container)
	if err != nil {
		return Unknown, err.Error()
	}
	host := a.Host
	if host == "" {
		host = podIP
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return Failure, fmt.Sprintf("dial tcp %s: %v", net.JoinHostPort(host, strconv.Itoa(port)), unwrapOpError(err))
	}
	_ = conn.Close()
	return Success, ""
}

func unwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}
