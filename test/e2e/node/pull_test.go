package node

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// dockerRegistry is Debian's docker-registry (distribution 2.8), installed by
// hack/install-deps.sh with its own service disabled.
const dockerRegistry = "/usr/bin/docker-registry"

// registry is a docker-registry the test runs on a loopback port, with basic
// authentication from an htpasswd file.
type registry struct {
	Addr       string // 127.0.0.1:PORT
	User, Pass string
	dir        string
}

// startRegistry runs a registry with its own configuration and storage in a
// temporary directory, and stops it when the test ends.
func startRegistry(t *testing.T) *registry {
	t.Helper()
	_, err := os.Stat(dockerRegistry)
	framework.Require(t, err == nil, dockerRegistry+" not installed (hack/install-deps.sh installs it)")
	port, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &registry{Addr: "127.0.0.1:" + strconv.Itoa(port), User: "e2e-puller", Pass: "s3cret-" + strconv.Itoa(port), dir: t.TempDir()}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.Pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(r.dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(r.User+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
  secret: e2e-%d
auth:
  htpasswd:
    realm: minik8s-e2e
    path: %s
`, filepath.Join(r.dir, "data"), r.Addr, port, htpasswd)
	cfgFile := filepath.Join(r.dir, "config.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(r.dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dockerRegistry, "serve", cfgFile)
	// No REGISTRY_* variables from the caller: they would override the file.
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The registry must not outlive a test binary that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", dockerRegistry, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(r.dir, "registry.log"))
			t.Logf("registry log:\n%s", tail(string(b), 4000))
		}
	})
	// Ready when /v2/ asks for credentials: that is the API and the auth both up.
	framework.Eventually(t, 20*time.Second, func() error {
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(filepath.Join(r.dir, "registry.log"))
			t.Fatalf("registry exited: %v\n%s", err, b)
		default:
		}
		resp, err := http.Get("http://" + r.Addr + "/v2/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("GET /v2/ anonymously: %s, want 401", resp.Status)
		}
		return nil
	})
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// do sends an authenticated request and checks the status.
func (r *registry) do(method, target string, body []byte, contentType string, want int) (*http.Response, error) {
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(r.User, r.Pass)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", method, target, resp.Status, msg)
	}
	return resp, nil
}

// push uploads an image tarball of test/images/testimages (an OCI image layout)
// as repo:tag, through the registry HTTP API: each blob in one upload, then
// the manifest.
func (r *registry) push(file, repo, tag string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	blobs := map[string][]byte{}
	var index []byte
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("read %s: %s: %w", file, hdr.Name, err)
		}
		switch {
		case hdr.Name == "index.json":
			index = data
		case strings.HasPrefix(hdr.Name, "blobs/sha256/"):
			blobs["sha256:"+strings.TrimPrefix(hdr.Name, "blobs/sha256/")] = data
		}
	}
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(index, &idx); err != nil || len(idx.Manifests) == 0 {
		return fmt.Errorf("%s: no manifest in index.json (%v)", file, err)
	}
	manifest := blobs[idx.Manifests[0].Digest]
	var m struct {
		MediaType string                  `json:"mediaType"`
		Config    struct{ Digest string } `json:"config"`
		Layers    []struct{ Digest string }
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("%s: manifest %s: %w", file, idx.Manifests[0].Digest, err)
	}
	base := "http://" + r.Addr + "/v2/" + repo
	digests := []string{m.Config.Digest}
	for _, l := range m.Layers {
		digests = append(digests, l.Digest)
	}
	for _, d := range digests {
		data, ok := blobs[d]
		if !ok {
			return fmt.Errorf("%s: blob %s missing", file, d)
		}
		resp, err := r.do(http.MethodPost, base+"/blobs/uploads/", nil, "", http.StatusAccepted)
		if err != nil {
			return err
		}
		loc, err := resp.Location()
		if err != nil {
			return fmt.Errorf("upload of %s: %w", d, err)
		}
		q := loc.Query()
		q.Set("digest", d)
		loc.RawQuery = q.Encode()
		if _, err := r.do(http.MethodPut, loc.String(), data, "application/octet-stream", http.StatusCreated); err != nil {
			return err
		}
	}
	_, err = r.do(http.MethodPut, base+"/manifests/"+url.PathEscape(tag), manifest, m.MediaType, http.StatusCreated)
	return err
}

// writeHostsTOML writes the hosts.toml that sends the node's containerd pulls
// of images named name to the plain-HTTP registry at addr, as a user would (see
// docs/registries.md), and removes it when the test ends.
func writeHostsTOML(t *testing.T, name, addr string) {
	t.Helper()
	dir := filepath.Join(cluster.DataDir, "agent", "containerd", "certs.d", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	hosts := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", "http://"+addr, "http://"+addr)
	if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
}

// withPullSecrets adds spec.imagePullSecrets to a pod manifest.
func withPullSecrets(manifest string, names ...string) string {
	manifest += "  imagePullSecrets:\n"
	for _, n := range names {
		manifest += "  - name: " + n + "\n"
	}
	return manifest
}

func pullPolicy(c, policy string) string {
	return strings.Replace(c, "imagePullPolicy: IfNotPresent", "imagePullPolicy: "+policy, 1)
}

// waitDescribe polls `kubectl describe pod` until it contains every want.
func waitDescribe(t *testing.T, s *framework.Session, name string, timeout time.Duration, want ...string) string {
	t.Helper()
	var d string
	framework.Eventually(t, timeout, func() error {
		d = s.Do("describe", "pod", name).Stdout
		for _, w := range want {
			if !strings.Contains(d, w) {
				return fmt.Errorf("describe lacks %q:\n%s", w, d)
			}
		}
		return nil
	})
	return d
}

// Images come from a private plain-HTTP registry with the pod's pull secret,
// by the pull policy, as upstream's kubelet pulls them.
func TestImagePullFromAPrivateRegistry(t *testing.T) {
	reg := startRegistry(t)
	image := reg.Addr + "/e2e/busybox:pull"
	if err := reg.push(filepath.Join(cluster.DataDir, "agent", "images", "busybox.tar"), "e2e/busybox", "pull"); err != nil {
		t.Fatalf("push the test image: %v", err)
	}
	// containerd 1.6 already speaks plain HTTP to loopback registries; the
	// hosts.toml says so for any containerd, as docs/registries.md asks users to.
	writeHostsTOML(t, reg.Addr, reg.Addr)
	s := session(t)
	s.Run("create", "secret", "docker-registry", "regcred", "--docker-server="+reg.Addr,
		"--docker-username="+reg.User, "--docker-password="+reg.Pass, "--docker-email=e2e@example.com")
	framework.Contains(t, s.Run("get", "secret", "regcred", "-o", "jsonpath={.type}"), "kubernetes.io/dockerconfigjson")

	t.Run("Always with the pull secret", func(t *testing.T) {
		s.Apply(withPullSecrets(pod("private", "Always", pullPolicy(container("c", image, "sleep", "3600"), "Always")), "regcred"))
		s.Run("wait", "--for=condition=Ready", "pod/private", "--timeout=60s")
		d := s.Run("describe", "pod", "private")
		framework.Contains(t, d, fmt.Sprintf("Pulling image %q", image), fmt.Sprintf("Successfully pulled image %q", image),
			"Started container c")
	})

	t.Run("a registry known only from hosts.toml", func(t *testing.T) {
		// A name no resolver knows, made to mean the loopback registry by a
		// hosts.toml written while the node runs: containerd reads certs.d at each
		// pull, and sends the pod's credentials to the host that serves the name.
		alias := "registry.minik8s.invalid:" + strings.TrimPrefix(reg.Addr, "127.0.0.1:")
		writeHostsTOML(t, alias, reg.Addr)
		s.Run("create", "secret", "docker-registry", "aliascred", "--docker-server="+alias,
			"--docker-username="+reg.User, "--docker-password="+reg.Pass)
		aliased := alias + "/e2e/busybox:pull"
		s.Apply(withPullSecrets(pod("aliased", "Always", pullPolicy(container("c", aliased, "sleep", "3600"), "Always")), "aliascred"))
		s.Run("wait", "--for=condition=Ready", "pod/aliased", "--timeout=60s")
		framework.Contains(t, s.Run("describe", "pod", "aliased"), fmt.Sprintf("Successfully pulled image %q", aliased))
	})

	t.Run("Always without a pull secret", func(t *testing.T) {
		s.Apply(pod("anonymous", "Always", pullPolicy(container("c", image, "sleep", "3600"), "Always")))
		// A secret that does not exist is reported, and the pull goes ahead without it.
		s.Apply(withPullSecrets(pod("missing-secret", "Always", pullPolicy(container("c", image, "sleep", "3600"), "Always")), "no-such-secret"))
		for _, name := range []string{"anonymous", "missing-secret"} {
			framework.Eventually(t, 60*time.Second, func() error {
				r := s.Do("get", "pod", name, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}").Stdout
				if r != "ErrImagePull" && r != "ImagePullBackOff" {
					return fmt.Errorf("%s: waiting reason %q", name, r)
				}
				return nil
			})
			waitDescribe(t, s, name, 30*time.Second, fmt.Sprintf("Failed to pull image %q", image), "401 Unauthorized")
		}
		framework.Contains(t, s.Run("describe", "pod", "missing-secret"), "FailedToRetrieveImagePullSecret",
			"Unable to retrieve some image pull secrets (no-such-secret); attempting to pull the image may not succeed.")
		// Upstream's second attempt is held back: the pod shows ImagePullBackOff.
		waitDescribe(t, s, "anonymous", 60*time.Second, "ImagePullBackOff", fmt.Sprintf("Back-off pulling image %q", image))
	})

	t.Run("IfNotPresent uses the image already pulled", func(t *testing.T) {
		// No secret: a pull would be refused, so running proves none was tried.
		s.Apply(pod("present", "Always", container("c", image, "sleep", "3600")))
		s.Run("wait", "--for=condition=Ready", "pod/present", "--timeout=60s")
		d := s.Run("describe", "pod", "present")
		framework.Contains(t, d, fmt.Sprintf("Container image %q already present on machine", image))
		if strings.Contains(d, "Pulling image") {
			t.Fatalf("an IfNotPresent pod pulled a present image:\n%s", d)
		}
	})
}
