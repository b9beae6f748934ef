package testimages

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// needTools skips (or fails under CI, whose machines install them) when a tool
// the images are built from is missing.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"dpkg-deb", "dpkg-query"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing: run hack/install-deps.sh", tool)
			}
			t.Skipf("%s missing: the images are built from Debian packages", tool)
		}
	}
}

var built struct {
	dir     string
	results []Result
}

// buildAll builds every image once per test binary.
func buildAll(t *testing.T) []Result {
	t.Helper()
	needTools(t)
	if built.results != nil {
		return built.results
	}
	dir, err := os.MkdirTemp("", "testimages-")
	if err != nil {
		t.Fatal(err)
	}
	results, err := Build(context.Background(), Options{OutDir: dir})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("Build: %v", err)
	}
	built.dir, built.results = dir, results
	return results
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// imageFiles reads an image tarball written by Build: its names, run config and
// the merged view of its layers' entries.
type imageFiles struct {
	names   []string
	config  map[string]any
	entries map[string]*tar.Header
	content map[string][]byte
}

func readImage(t *testing.T, file string) *imageFiles {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		members[hdr.Name], _ = io.ReadAll(tr)
	}
	var docker []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(members["manifest.json"], &docker); err != nil || len(docker) != 1 {
		t.Fatalf("%s: manifest.json: %v", file, err)
	}
	img := &imageFiles{names: docker[0].RepoTags, entries: map[string]*tar.Header{}, content: map[string][]byte{}}
	var cfg struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(members[docker[0].Config], &cfg); err != nil {
		t.Fatal(err)
	}
	img.config = cfg.Config
	for _, l := range docker[0].Layers {
		ltr := tar.NewReader(bytes.NewReader(members[l]))
		for {
			hdr, err := ltr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(hdr.Name, "/")
			img.entries[name] = hdr
			img.content[name], _ = io.ReadAll(ltr)
		}
	}
	return img
}

func result(t *testing.T, key string) Result {
	t.Helper()
	for _, r := range buildAll(t) {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("Build wrote no %s image", key)
	return Result{}
}

func TestBuildWritesEveryImageUnderItsNames(t *testing.T) {
	want := map[string][]string{
		"pause":      {"registry.k8s.io/pause:3.10.1"},
		"busybox":    {"docker.io/library/busybox:1.36", "docker.io/library/busybox:latest"},
		"testserver": {"minik8s.io/testserver:latest"},
		"nginx":      {"docker.io/library/nginx:latest"},
	}
	results := buildAll(t)
	if len(results) != len(want) {
		t.Fatalf("Build wrote %d images, want %d", len(results), len(want))
	}
	for _, r := range results {
		if path.Base(r.File) != r.Key+".tar" {
			t.Errorf("%s written to %s, want %s.tar", r.Key, r.File, r.Key)
		}
		img := readImage(t, r.File)
		if strings.Join(img.names, " ") != strings.Join(want[r.Key], " ") {
			t.Errorf("%s names = %q, want %q", r.Key, img.names, want[r.Key])
		}
	}
}

func TestBusyboxImageHasEveryAppletAndTheBasicFiles(t *testing.T) {
	img := readImage(t, result(t, "busybox").File)
	bb := img.entries["bin/busybox"]
	if bb == nil || bb.Typeflag != tar.TypeReg || bb.Mode != 0o755 {
		t.Fatalf("bin/busybox = %+v", bb)
	}
	for _, applet := range []string{"sh", "ls", "wget", "nslookup", "sleep", "httpd", "env", "ip"} {
		h := img.entries["bin/"+applet]
		if h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "bin/busybox" {
			t.Errorf("bin/%s = %+v, want a hard link to bin/busybox", applet, h)
		}
	}
	for p, target := range map[string]string{"usr/bin/env": "/bin/env", "sbin/ip": "/bin/ip"} {
		if h := img.entries[p]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("%s = %+v, want a symlink to %s", p, h, target)
		}
	}
	if h := img.entries["tmp"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp = %+v, want mode 1777", h)
	}
	passwd := string(img.content["etc/passwd"])
	group := string(img.content["etc/group"])
	for _, want := range []string{"root:x:0:0:", "nobody:x:65534:65534:"} {
		if !strings.Contains(passwd, want) {
			t.Errorf("etc/passwd lacks %q:\n%s", want, passwd)
		}
	}
	if !strings.Contains(group, "root:x:0:") || !strings.Contains(group, "nobody:x:65534:") {
		t.Errorf("etc/group = %q", group)
	}
	if cmd, _ := json.Marshal(img.config["Cmd"]); string(cmd) != `["sh"]` {
		t.Errorf("Cmd = %s", cmd)
	}
}

func TestTestserverImageRunsTheServerOnPort8080(t *testing.T) {
	img := readImage(t, result(t, "testserver").File)
	if h := img.entries["testserver"]; h == nil || h.Mode != 0o755 {
		t.Fatalf("testserver = %+v", h)
	}
	if img.entries["bin/sh"] == nil {
		t.Error("no busybox below the test server: tests cannot exec a shell in it")
	}
	if ep, _ := json.Marshal(img.config["Entrypoint"]); string(ep) != `["/testserver"]` {
		t.Errorf("Entrypoint = %s", ep)
	}
	if ports, _ := json.Marshal(img.config["ExposedPorts"]); string(ports) != `{"8080/tcp":{}}` {
		t.Errorf("ExposedPorts = %s", ports)
	}
}

func TestNginxStandInServesTheWelcomePage(t *testing.T) {
	img := readImage(t, result(t, "nginx").File)
	if !strings.Contains(string(img.content["usr/share/nginx/html/index.html"]), "Welcome to nginx!") {
		t.Error("index.html does not say Welcome to nginx!")
	}
	script := string(img.content["usr/sbin/nginx"])
	if !strings.Contains(script, "httpd -f -v -p 80 -h /usr/share/nginx/html") {
		t.Errorf("usr/sbin/nginx does not run busybox httpd:\n%s", script)
	}
	if img.config["StopSignal"] != "SIGQUIT" {
		t.Errorf("StopSignal = %v", img.config["StopSignal"])
	}
	if labels, _ := img.config["Labels"].(map[string]any); labels[labelStandIn] == nil {
		t.Error("no stand-in label")
	}
}

func TestBuildRefusesAnUnknownImage(t *testing.T) {
	if _, err := Build(context.Background(), Options{OutDir: t.TempDir(), Only: []string{"postgres"}}); err == nil || !strings.Contains(err.Error(), `unknown image "postgres"`) {
		t.Fatalf("Build(postgres) error = %v", err)
	}
}

func TestBuildRefusesADynamicBusybox(t *testing.T) {
	needTools(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, err = Build(context.Background(), Options{OutDir: t.TempDir(), Only: []string{"busybox"}, Busybox: sh})
	if err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Fatalf("Build with a dynamic busybox: error = %v", err)
	}
}

func TestBuildReadsBusyboxFromADeb(t *testing.T) {
	needTools(t)
	deb := os.Getenv("BUSYBOX_DEB")
	if deb == "" {
		matches, _ := filepath.Glob("/var/cache/apt/archives/busybox-static_*.deb")
		if len(matches) == 0 {
			t.Skip("no busybox-static .deb cached (set BUSYBOX_DEB)")
		}
		deb = matches[0]
	}
	dir := t.TempDir()
	if _, err := Build(context.Background(), Options{OutDir: dir, Only: []string{"busybox"}, Busybox: deb}); err != nil {
		t.Fatal(err)
	}
	if img := readImage(t, dir+"/busybox.tar"); img.entries["bin/sh"] == nil {
		t.Fatal("busybox from a .deb has no bin/sh")
	}
}
