package node

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The node's streaming API through the real kubectl: logs, exec, attach,
// port-forward, proxies and `kubectl top`.

// kubectlCmd prepares a kubectl run in the session's namespace for tests that
// stream: they need its pipes, or to stop it themselves.
func kubectlCmd(ctx context.Context, s *framework.Session, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.Kubectl, append([]string{"-n", s.Namespace}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.C.Kubeconfig)
	// Once killed, kubectl's output pipes are ours to close.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// slowEOF is a stdin that gives its text, then waits before its end, so that a
// stream stays open long enough for the answer to come back.
type slowEOF struct {
	r    io.Reader
	wait time.Duration
}

func (s *slowEOF) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		time.Sleep(s.wait)
	}
	return n, err
}

// Logs of a running pod: whole, tailed, limited, stamped, with kubectl's and the
// API server's errors for containers that are not there or have not started.
func TestStreamingLogs(t *testing.T) {
	s := session(t)
	s.Apply(pod("logger", "Always",
		container("a", "busybox:1.36", "sh", "-c", "echo to-stderr >&2; sleep 0.5; for i in 1 2 3 4 5; do echo a-$i; done; sleep 3600")+
			container("b", "busybox:1.36", "sh", "-c", "echo b-ok; sleep 3600")))
	s.Run("wait", "--for=condition=Ready", "pod/logger", "--timeout=60s")
	framework.Eventually(t, 20*time.Second, func() error {
		if out := s.Do("logs", "logger", "-c", "a").Stdout; !strings.Contains(out, "a-5") {
			return fmt.Errorf("logs so far: %q", out)
		}
		return nil
	})
	// stderr and stdout are copied apart: the stderr line comes first by half a second.
	if got := s.Run("logs", "logger", "-c", "a"); got != "to-stderr\na-1\na-2\na-3\na-4\na-5\n" {
		t.Fatalf("logs -c a = %q", got)
	}
	if got := s.Run("logs", "logger", "-c", "b"); got != "b-ok\n" {
		t.Fatalf("logs -c b = %q", got)
	}
	// kubectl picks the first container, and says so.
	r := s.Do("logs", "logger")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "to-stderr\na-1\n") {
		t.Fatalf("logs without -c: %+v", r)
	}
	framework.Contains(t, r.Stderr, `Defaulted container "a" out of: a, b`)
	if got := s.Run("logs", "logger", "-c", "a", "--tail=2"); got != "a-4\na-5\n" {
		t.Fatalf("--tail=2 = %q", got)
	}
	if got := s.Run("logs", "logger", "-c", "a", "--limit-bytes=6"); got != "to-std" {
		t.Fatalf("--limit-bytes=6 = %q", got)
	}
	if got := s.Run("logs", "logger", "-c", "a", "--since=1h", "--tail=1"); got != "a-5\n" {
		t.Fatalf("--since=1h --tail=1 = %q", got)
	}
	if got := s.Run("logs", "logger", "-c", "a", "--since-time=2999-01-01T00:00:00Z"); got != "" {
		t.Fatalf("--since-time in the future = %q", got)
	}
	framework.Matches(t, s.Run("logs", "logger", "-c", "a", "--timestamps", "--tail=1"),
		`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) a-5\n$`)

	framework.Contains(t, s.Fail("logs", "logger", "-c", "nope"), "container nope is not valid for pod logger")
	framework.Contains(t, s.Fail("logs", "logger", "-c", "a", "--previous"),
		`previous terminated container "a" in pod "logger" not found`)
	// The API server's own checks, without kubectl's in front.
	base := "/api/v1/namespaces/" + s.Namespace + "/pods/logger/log"
	framework.Contains(t, s.Fail("get", "--raw", base),
		"a container name must be specified for pod logger, choose one of: [a b]")
	framework.Contains(t, s.Fail("get", "--raw", base+"?container=zz"), "container zz is not valid for pod logger")
	framework.Contains(t, s.Fail("get", "--raw", base+"?container=a&tailLines=-1"),
		`PodLogOptions "logger" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0`)
	if got := s.Run("get", "--raw", base+"?container=b"); got != "b-ok\n" {
		t.Fatalf("raw log = %q", got)
	}

	// A container that cannot start says why.
	never := strings.Replace(container("c", "example.invalid/nothing:1"), "IfNotPresent", "Never", 1)
	s.Apply(pod("waiting", "Always", never))
	framework.Eventually(t, 30*time.Second, func() error {
		r := s.Do("logs", "waiting")
		if !strings.Contains(r.Stderr, `container "c" in pod "waiting" is waiting to start: ErrImageNeverPull`) {
			return fmt.Errorf("logs of a container that cannot start: %+v", r)
		}
		return nil
	})
}

// `kubectl logs -f` shows lines as they are written, until the client goes or the
// container ends.
func TestStreamingLogsFollow(t *testing.T) {
	s := session(t)
	s.Apply(pod("ticker", "Always", container("c", "busybox:1.36", "sh", "-c",
		"i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done")))
	s.Run("wait", "--for=condition=Ready", "pod/ticker", "--timeout=60s")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	r := s.C.Kubectl(ctx, s.Kubectl, "", "-n", s.Namespace, "logs", "-f", "ticker", "--tail=1")
	if time.Since(start) < 2*time.Second {
		t.Fatalf("logs -f ended on its own: %+v", r)
	}
	lines := splitLines(r.Stdout)
	if len(lines) < 5 {
		t.Fatalf("logs -f for 3s printed %d lines: %q", len(lines), r.Stdout)
	}
	// Consecutive: nothing lost or repeated while following.
	var first int
	if _, err := fmt.Sscanf(lines[0], "tick-%d", &first); err != nil {
		t.Fatalf("first line %q", lines[0])
	}
	for i, l := range lines {
		if l != fmt.Sprintf("tick-%d", first+i) {
			t.Fatalf("line %d is %q, want tick-%d:\n%s", i, l, first+i, r.Stdout)
		}
	}

	s.Apply(pod("short", "Never", container("c", "busybox:1.36", "sh", "-c",
		"sleep 1; for i in 1 2 3; do echo line-$i; sleep 1; done")))
	framework.Eventually(t, 60*time.Second, func() error {
		if st := s.Do("get", "pod", "short", "-o", "jsonpath={.status.phase}").Stdout; st != "Running" && st != "Succeeded" {
			return fmt.Errorf("phase %q", st)
		}
		return nil
	})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	r = s.C.Kubectl(ctx2, s.Kubectl, "", "-n", s.Namespace, "logs", "-f", "short")
	if r.Code != 0 || r.Stdout != "line-1\nline-2\nline-3\n" {
		t.Fatalf("logs -f of a container that ends: %+v", r)
	}
}

// --previous shows the instance before a restart.
func TestStreamingPreviousLogs(t *testing.T) {
	s := session(t)
	c := container("c", "busybox:1.36", "sh", "-c",
		"if [ -f /data/ran ]; then echo second-run; exec sleep 3600; fi; touch /data/ran; echo first-run; exit 1") +
		"    volumeMounts: [{name: data, mountPath: /data}]\n"
	s.Apply(pod("restarts", "Always", c) + "  volumes:\n  - name: data\n    emptyDir: {}\n")
	waitField(t, s, "restarts", "{.status.containerStatuses[0].restartCount}", "1")
	s.Run("wait", "--for=condition=Ready", "pod/restarts", "--timeout=60s")
	framework.Eventually(t, 20*time.Second, func() error {
		if got := s.Do("logs", "restarts").Stdout; got != "second-run\n" {
			return fmt.Errorf("logs = %q", got)
		}
		return nil
	})
	if got := s.Run("logs", "restarts", "--previous"); got != "first-run\n" {
		t.Fatalf("logs --previous = %q", got)
	}
	if got := s.Run("logs", "restarts", "-p", "--timestamps"); !regexp.MustCompile(`^\S+ first-run\n$`).MatchString(got) {
		t.Fatalf("logs -p --timestamps = %q", got)
	}
}

// Commands run in a container: output, exit codes, stdin and a terminal.
func TestStreamingExec(t *testing.T) {
	s := session(t)
	s.Apply(pod("shell", "Always", container("main", "busybox:1.36", "sleep", "3600")+
		container("side", "busybox:1.36", "sleep", "3600")))
	s.Run("wait", "--for=condition=Ready", "pod/shell", "--timeout=60s")

	if got := s.Run("exec", "shell", "-c", "main", "--", "echo", "hello", "from", "exec"); got != "hello from exec\n" {
		t.Fatalf("exec echo = %q", got)
	}
	r := s.Do("exec", "shell", "-c", "main", "--", "sh", "-c", "echo out; echo err >&2")
	if r.Code != 0 || r.Stdout != "out\n" || !strings.Contains(r.Stderr, "err") {
		t.Fatalf("stdout and stderr apart: %+v", r)
	}
	r = s.Do("exec", "shell", "-c", "side", "--", "sh", "-c", "exit 3")
	if r.Code != 3 || !strings.Contains(r.Stderr, "command terminated with exit code 3") {
		t.Fatalf("exit code: %+v", r)
	}
	r = s.DoIn("line one\nline two\n", "exec", "-i", "shell", "-c", "main", "--", "sh", "-c", "cat; echo stdin-closed")
	if r.Code != 0 || r.Stdout != "line one\nline two\nstdin-closed\n" {
		t.Fatalf("exec -i: %+v", r)
	}
	// Containers share nothing but what the pod shares: a file stays in its container.
	s.Run("exec", "shell", "-c", "main", "--", "touch", "/tmp/mine")
	if r := s.Do("exec", "shell", "-c", "side", "--", "ls", "/tmp/mine"); r.Code == 0 {
		t.Fatalf("exec ran in the wrong container: %+v", r)
	}
	framework.Contains(t, s.Fail("exec", "shell", "-c", "nope", "--", "true"), "container nope is not valid for pod shell")
	framework.Contains(t, s.Fail("exec", "shell", "--", "no-such-command"), "no-such-command")

	if _, err := exec.LookPath("script"); err != nil {
		t.Log("script(1) is not installed: exec -t not tested")
		return
	}
	// A terminal, through script(1) since kubectl wants one for -t.
	line := fmt.Sprintf("%s -n %s exec -it shell -c main -- sh -c 'tty; echo cols=$(stty size)'", s.Kubectl, s.Namespace)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.C.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "/dev/pts/") {
		t.Fatalf("exec -it: %v\n%s", err, out)
	}
}

// attach reads a running container's output and feeds its stdin.
func TestStreamingAttach(t *testing.T) {
	s := session(t)
	c := container("c", "busybox:1.36", "sh", "-c", "echo ready; while read line; do echo got-$line; done") + "    stdin: true\n"
	s.Apply(pod("reader", "Always", c))
	s.Run("wait", "--for=condition=Ready", "pod/reader", "--timeout=60s")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := kubectlCmd(ctx, s, "attach", "-i", "reader")
	cmd.Stdin = &slowEOF{r: strings.NewReader("hello\n"), wait: 2 * time.Second}
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "got-hello") {
		t.Fatalf("attach -i: %v\n%s", err, out)
	}
	framework.Contains(t, s.Run("logs", "reader"), "ready\ngot-hello\n")

	// Without -i it only watches.
	s.Apply(pod("talker", "Always", container("c", "busybox:1.36", "sh", "-c",
		"i=0; while true; do echo talk-$i; i=$((i+1)); sleep 0.2; done")))
	s.Run("wait", "--for=condition=Ready", "pod/talker", "--timeout=60s")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	r := s.C.Kubectl(ctx2, s.Kubectl, "", "-n", s.Namespace, "attach", "talker")
	if !regexp.MustCompile(`talk-\d+\n.*talk-\d+\n`).MatchString(r.Stdout) {
		t.Fatalf("attach printed: %+v", r)
	}
}

// port-forward carries HTTP to a pod's port; the API server's pod and node
// proxies reach the pod and the kubelet.
func TestStreamingPortForward(t *testing.T) {
	s := session(t)
	web := container("web", "minik8s.io/testserver:latest") + "    ports: [{containerPort: 8080}]\n"
	s.Apply(pod("web", "Always", web))
	s.Run("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := kubectlCmd(ctx, s, "port-forward", "pod/web", ":8080")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	port := ""
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			port = m[1]
			break
		}
	}
	if port == "" {
		t.Fatal("port-forward did not say which local port it listens on")
	}
	// Keep reading kubectl's "Handling connection" lines so it never blocks on them.
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	for i := 0; i < 3; i++ {
		resp, err := http.Get("http://127.0.0.1:" + port + "/hostname")
		if err != nil {
			t.Fatalf("GET through port-forward: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "web" {
			t.Fatalf("GET through port-forward: %s %q", resp.Status, body)
		}
	}

	// The pod proxy, by port number.
	if got := strings.TrimSpace(s.Run("get", "--raw", "/api/v1/namespaces/"+s.Namespace+"/pods/web:8080/proxy/hostname")); got != "web" {
		t.Fatalf("pod proxy = %q", got)
	}
	// The node proxy reaches the kubelet.
	if got := s.Run("get", "--raw", "/api/v1/nodes/"+nodeName+"/proxy/healthz"); got != "ok" {
		t.Fatalf("node proxy healthz = %q", got)
	}
	framework.Contains(t, s.Run("get", "--raw", "/api/v1/nodes/"+nodeName+"/proxy/pods"), `"name":"web"`)
}

// The kubelet API takes the API server and cluster admins by certificate;
// anyone else needs RBAC on the node's subresources (kubeletauth_test.go).
func TestStreamingKubeletAuth(t *testing.T) {
	s := session(t)
	ip := s.Run("get", "node", nodeName, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
	url := "https://" + ip + ":" + kubeletPort + "/pods"
	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := anon.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous /pods: %s", resp.Status)
	}
	cfg, err := s.C.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSClientConfig = rest.TLSClientConfig{Insecure: true, CertData: cfg.CertData, KeyData: cfg.KeyData, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile}
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	resp, err = admin.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"kind":"PodList"`) {
		t.Fatalf("admin /pods: %s %.200s", resp.Status, body)
	}
	// The node's own credentials are not enough.
	node := *cfg
	nodeTLS := "/agent/tls/node"
	node.TLSClientConfig = rest.TLSClientConfig{Insecure: true, CertFile: s.C.DataDir + nodeTLS + ".crt", KeyFile: s.C.DataDir + nodeTLS + ".key"}
	tr, err = rest.TransportFor(&node)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = (&http.Client{Timeout: 10 * time.Second, Transport: tr}).Get("https://" + ip + ":" + kubeletPort + "/stats/summary")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "user=system:node:"+nodeName) {
		t.Fatalf("node credentials: %s %q", resp.Status, body)
	}
}

// kubectl top reads the metrics API the API server serves from the kubelets.
func TestStreamingTop(t *testing.T) {
	s := session(t)
	// A CPU request: a BestEffort container gets the smallest share of a busy
	// machine, and the test machine is shared.
	spin := container("spin", "busybox:1.36", "sh", "-c", "while true; do :; done") + "    resources: {requests: {cpu: 250m}}\n"
	s.Apply(pod("busy", "Always", spin+container("idle", "busybox:1.36", "sleep", "3600")))
	s.Run("wait", "--for=condition=Ready", "pod/busy", "--timeout=60s")
	framework.Contains(t, s.Run("api-resources", "--api-group=metrics.k8s.io"), "NodeMetrics", "PodMetrics")
	framework.Eventually(t, 60*time.Second, func() error {
		r := s.Do("top", "node", nodeName)
		if r.Code != 0 || !regexp.MustCompile(nodeName+`\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%`).MatchString(r.Stdout) {
			return fmt.Errorf("top node: %+v", r)
		}
		return nil
	})
	var out string
	framework.Eventually(t, 60*time.Second, func() error {
		r := s.Do("top", "pod", "busy", "--containers")
		out = r.Stdout
		if r.Code != 0 || !regexp.MustCompile(`busy\s+spin\s+\d+m\s+\d+Mi`).MatchString(r.Stdout) ||
			!regexp.MustCompile(`busy\s+idle\s+\d+m\s+\d+Mi`).MatchString(r.Stdout) {
			return fmt.Errorf("top pod --containers: %+v", r)
		}
		return nil
	})
	// The spinning container uses more than the sleeping one.
	var busy, idle int
	fmt.Sscanf(regexp.MustCompile(`busy\s+spin\s+(\d+)m`).FindStringSubmatch(out)[1], "%d", &busy)
	fmt.Sscanf(regexp.MustCompile(`busy\s+idle\s+(\d+)m`).FindStringSubmatch(out)[1], "%d", &idle)
	if busy < 20 || busy <= idle {
		t.Fatalf("a busy loop uses %dm CPU, a sleep %dm:\n%s", busy, idle, out)
	}
	framework.Matches(t, s.Run("top", "pod"), `(?m)^busy\s+\d+m\s+\d+Mi`)
	framework.Contains(t, s.Fail("top", "pod", "nope"), `podmetrics.metrics.k8s.io "`+s.Namespace+`/nope" not found`)
}
