package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// The WebSocket protocols kubectl 1.30+ speaks first, here without its fallback to
// SPDY: exec with v5.channel.k8s.io (which the API server translates to SPDY
// toward the node) and port-forward with SPDY tunnelled through a WebSocket.
func TestStreamingOverWebSockets(t *testing.T) {
	s := session(t)
	s.Apply(pod("ws", "Always", container("main", "busybox:1.36", "sleep", "3600")+
		container("web", "minik8s.io/testserver:latest")))
	s.Run("wait", "--for=condition=Ready", "pod/ws", "--timeout=60s")
	cfg, err := cluster.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs := cluster.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(s.Namespace).Name("ws").SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: "main", Command: []string{"sh", "-c", "cat; echo out; echo err >&2; exit 3"},
			Stdin: true, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("in\n"), Stdout: &stdout, Stderr: &stderr})
	var exit utilexec.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 3 {
		t.Fatalf("exec over WebSocket: err %v, want exit code 3 (stdout %q, stderr %q)", err, stdout.String(), stderr.String())
	}
	if stdout.String() != "in\nout\n" || stderr.String() != "err\n" {
		t.Fatalf("exec over WebSocket: stdout %q, stderr %q", stdout.String(), stderr.String())
	}

	pfURL := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(s.Namespace).Name("ws").SubResource("portforward").URL()
	dialer, err := portforward.NewSPDYOverWebsocketDialer(pfURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop, ready := make(chan struct{}), make(chan struct{})
	defer close(stop)
	pf, err := portforward.New(dialer, []string{"0:8080"}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("port-forward over WebSocket: %v", err)
	case <-ctx.Done():
		t.Fatal("port-forward over WebSocket never became ready")
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) != 1 {
		t.Fatalf("ports %v, %v", ports, err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hostname", ports[0].Local))
	if err != nil {
		t.Fatalf("through the tunnel: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ws") {
		t.Fatalf("through the tunnel: %d %q", resp.StatusCode, body)
	}
}

// The older WebSocket protocols upstream's conformance tests speak: exec with
// channel.k8s.io (one message per write, its first byte the stream) and logs
// with binary.k8s.io.
func TestOlderWebSocketProtocols(t *testing.T) {
	s := session(t)
	s.Apply(pod("oldws", "Always", container("main", "busybox:1.36", "sh", "-c", "echo container is alive; sleep 3600")))
	s.Run("wait", "--for=condition=Ready", "pod/oldws", "--timeout=60s")
	cfg, err := cluster.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dialer := websocket.Dialer{TLSClientConfig: tlsCfg, HandshakeTimeout: 10 * time.Second}
	cs := cluster.Client(t)
	read := func(u *url.URL, protocol string) string {
		t.Helper()
		u.Scheme = "wss"
		dialer.Subprotocols = []string{protocol}
		c, resp, err := dialer.Dial(u.String(), nil)
		if err != nil {
			status := ""
			if resp != nil {
				status = resp.Status
			}
			t.Fatalf("%s over %s: %v %s", u.Path, protocol, err, status)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var got strings.Builder
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				break
			}
			got.Write(msg)
		}
		return got.String()
	}
	execURL := cs.CoreV1().RESTClient().Get().Resource("pods").Namespace(s.Namespace).Name("oldws").SubResource("exec").
		Param("container", "main").Param("stdout", "1").Param("stderr", "1").
		Param("command", "echo").Param("command", "remote execution test").URL()
	if got := read(execURL, "channel.k8s.io"); !strings.Contains(got, "\x01remote execution test\n") {
		t.Errorf("exec over channel.k8s.io read %q, want the command's output on channel 1", got)
	}
	logURL := cs.CoreV1().RESTClient().Get().Resource("pods").Namespace(s.Namespace).Name("oldws").SubResource("log").
		Param("container", "main").URL()
	if got := read(logURL, "binary.k8s.io"); got != "container is alive\n" {
		t.Errorf("logs over binary.k8s.io read %q", got)
	}
}
