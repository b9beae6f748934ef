// Package framework starts a minik8s server from the built binary for end-to-end
// tests and runs the real kubectl against it.
package framework

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Cluster is a running minik8s server.
type Cluster struct {
	Binary  string
	DataDir string
	Port    int
	// DNSPort is the cluster DNS's port (UDP and TCP, on 127.0.0.1 too).
	DNSPort    int
	Kubeconfig string
	Log        string
	cmd        *exec.Cmd
	exited     chan error
	extraArgs  []string
}

// Options configure a cluster.
type Options struct {
	// Args are extra `minik8s server` flags.
	Args []string
	// DataDir reuses a data dir (restart tests); empty makes a new one.
	DataDir string
}

// Binary finds the minik8s binary: $MINIK8S_BIN, or bin/minik8s at the repository root.
func Binary() (string, error) {
	if b := os.Getenv("MINIK8S_BIN"); b != "" {
		return filepath.Abs(b)
	}
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			b := filepath.Join(d, "bin", "minik8s")
			if _, err := os.Stat(b); err != nil {
				return "", fmt.Errorf("%s not built: run hack/build.sh", b)
			}
			return b, nil
		}
	}
	return "", fmt.Errorf("repository root not found from %s", dir)
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs `minik8s server` and waits for /readyz.
func Start(opts Options) (*Cluster, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir := opts.DataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "minik8s-e2e-"); err != nil {
			return nil, err
		}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	// The cluster DNS gets a port of its own, so that servers run side by
	// side do not compete for port 53.
	dnsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	args := opts.Args
	if !hasFlag(args, "--cluster-dns-port") {
		args = append([]string{"--cluster-dns-port", strconv.Itoa(dnsPort)}, args...)
	}
	// Tests talk to loopback only.
	if !hasFlag(args, "--bind-address") {
		args = append([]string{"--bind-address", "127.0.0.1"}, args...)
	}
	c := &Cluster{Binary: bin, DataDir: dir, Port: port, DNSPort: dnsPort, Kubeconfig: filepath.Join(dir, "kubeconfig.yaml"),
		Log: filepath.Join(dir, "server.log"), extraArgs: args}
	return c, c.start()
}

func (c *Cluster) start() error {
	logf, err := os.OpenFile(c.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{"server", "--data-dir", c.DataDir, "--https-listen-port", strconv.Itoa(c.Port)}, c.extraArgs...)
	c.cmd = exec.Command(c.Binary, args...)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", c.Binary, err)
	}
	c.exited = make(chan error, 1)
	go func() { c.exited <- c.cmd.Wait(); logf.Close() }()
	return c.WaitReady(60 * time.Second)
}

// WaitReady polls /readyz until it answers ok.
func (c *Cluster) WaitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.exited:
			c.exited <- err
			log, _ := os.ReadFile(c.Log)
			return fmt.Errorf("server exited (%v):\n%s", err, log)
		default:
		}
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/readyz", c.Port))
		if err == nil {
			resp.Body.Close()
			// A server that refuses anonymous requests is asked as its admin.
			if resp.StatusCode == http.StatusUnauthorized {
				if cert, err := adminCertificate(c.Kubeconfig); err == nil {
					client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}}
				}
			}
			if resp.StatusCode == http.StatusOK {
				if _, err := os.Stat(c.Kubeconfig); err == nil {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server not ready after %s", timeout)
}

// adminCertificate reads the client certificate of the admin kubeconfig.
func adminCertificate(path string) (tls.Certificate, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cfg.CertData, cfg.KeyData)
}

// Stop sends SIGTERM and waits for a clean exit.
func (c *Cluster) Stop() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exited:
		c.cmd = nil
		return err
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		c.cmd = nil
		return fmt.Errorf("server did not stop within 30s of SIGTERM")
	}
}

// Restart stops and starts the server on the same data dir.
func (c *Cluster) Restart() error {
	if err := c.Stop(); err != nil {
		return err
	}
	return c.start()
}

// Destroy stops the server and removes its data.
func (c *Cluster) Destroy() {
	_ = c.Stop()
	_ = os.RemoveAll(c.DataDir)
}

// RESTConfig is the admin client configuration.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
}

// Client is an admin clientset.
func (c *Cluster) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cfg, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Result is what a kubectl run printed.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Kubectl runs a kubectl binary against the cluster.
func (c *Cluster) Kubectl(ctx context.Context, kubectl string, stdin string, args ...string) Result {
	return c.KubectlEnv(ctx, kubectl, nil, stdin, args...)
}

// KubectlEnv runs kubectl with extra environment variables.
func (c *Cluster) KubectlEnv(ctx context.Context, kubectl string, env []string, stdin string, args ...string) Result {
	cmd := exec.CommandContext(ctx, kubectl, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+c.Kubeconfig), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = bytes.NewBufferString(stdin)
	}
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}
