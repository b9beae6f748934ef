package images

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testImage() *Image {
	base := NewLayer()
	base.File("bin/busybox", 0o755, []byte("busybox"))
	base.Symlink("bin/sh", "busybox")
	app := NewLayer()
	app.File("app/server", 0o755, []byte("server"))
	return &Image{
		Names: []string{"busybox:1.36", "example.com/team/app"},
		Config: Config{
			Entrypoint:   []string{"/app/server"},
			Cmd:          []string{"--port", "8080"},
			Env:          []string{"MODE=test"},
			WorkingDir:   "/app",
			User:         "65534:65534",
			ExposedPorts: []string{"8080", "53/udp"},
			Labels:       map[string]string{"org.minik8s.test": "yes"},
			StopSignal:   "SIGQUIT",
		},
		Layers:       []*Layer{base, app},
		Architecture: "arm64",
	}
}

func TestImageArchiveReadsBackAsOCILayoutAndDockerArchive(t *testing.T) {
	data, err := testImage().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	rb := readArchive(t, data)

	wantNames := []string{"docker.io/library/busybox:1.36", "example.com/team/app:latest"}
	if len(rb.index.Manifests) != len(wantNames) {
		t.Fatalf("index has %d manifests, want one per name", len(rb.index.Manifests))
	}
	for i, d := range rb.index.Manifests {
		if d.Annotations[AnnotationContainerdName] != wantNames[i] {
			t.Errorf("manifest %d name = %q, want %q", i, d.Annotations[AnnotationContainerdName], wantNames[i])
		}
		if d.Digest != rb.index.Manifests[0].Digest || d.MediaType != MediaTypeManifest {
			t.Errorf("manifest %d = %+v, want the same manifest for every name", i, d)
		}
		if d.Platform == nil || d.Platform.Architecture != "arm64" || d.Platform.OS != "linux" {
			t.Errorf("manifest %d platform = %+v", i, d.Platform)
		}
	}
	if got := rb.index.Manifests[0].Annotations[AnnotationRefName]; got != "1.36" {
		t.Errorf("ref name = %q, want the tag 1.36", got)
	}

	c := rb.config
	if c.Architecture != "arm64" || c.OS != "linux" || c.Created != "2024-01-01T00:00:00Z" {
		t.Errorf("config platform/created = %s/%s %s", c.OS, c.Architecture, c.Created)
	}
	rc := c.Config
	if !reflect.DeepEqual(rc.Entrypoint, []string{"/app/server"}) || !reflect.DeepEqual(rc.Cmd, []string{"--port", "8080"}) {
		t.Errorf("entrypoint/cmd = %q %q", rc.Entrypoint, rc.Cmd)
	}
	if !reflect.DeepEqual(rc.Env, []string{DefaultPath, "MODE=test"}) {
		t.Errorf("env = %q, want the default PATH first", rc.Env)
	}
	if rc.WorkingDir != "/app" || rc.User != "65534:65534" || rc.StopSignal != "SIGQUIT" || rc.Labels["org.minik8s.test"] != "yes" {
		t.Errorf("config = %+v", rc)
	}
	if _, ok := rc.ExposedPorts["8080/tcp"]; !ok || len(rc.ExposedPorts) != 2 {
		t.Errorf("exposed ports = %v, want 8080/tcp and 53/udp", rc.ExposedPorts)
	}
	if len(c.History) != 2 || len(c.RootFS.DiffIDs) != 2 {
		t.Errorf("history %d, diff ids %d; want one per layer", len(c.History), len(c.RootFS.DiffIDs))
	}

	if len(rb.docker) != 1 {
		t.Fatalf("manifest.json has %d entries", len(rb.docker))
	}
	dm := rb.docker[0]
	if !reflect.DeepEqual(dm.RepoTags, wantNames) {
		t.Errorf("RepoTags = %q", dm.RepoTags)
	}
	if dm.Config != "blobs/sha256/"+strings.TrimPrefix(rb.manifest.Config.Digest, "sha256:") {
		t.Errorf("docker Config %s is not the OCI config blob", dm.Config)
	}
	for i, l := range dm.Layers {
		if _, ok := rb.files[l]; !ok || l != "blobs/sha256/"+strings.TrimPrefix(rb.manifest.Layers[i].Digest, "sha256:") {
			t.Errorf("docker layer %d %s is not the OCI layer blob", i, l)
		}
	}

	if got := string(rb.file(t, 1, "app/server")); got != "server" {
		t.Errorf("app/server = %q", got)
	}
	if h := rb.layers[0][2]; h.Name != "bin/sh" || h.Linkname != "busybox" {
		t.Errorf("third entry of the base layer = %s -> %s, want bin/sh -> busybox", h.Name, h.Linkname)
	}
}

func TestImageArchiveIsReproducible(t *testing.T) {
	a, err := testImage().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b, err := testImage().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the same image written twice gave different bytes")
	}
}

func TestImageArchiveStoresASharedLayerOnce(t *testing.T) {
	l := NewLayer()
	l.File("x", 0o644, []byte("x"))
	img := &Image{Names: []string{"dup"}, Layers: []*Layer{l, l}}
	data, err := img.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	rb := readArchive(t, data)
	seen := map[string]int{}
	for _, n := range rb.order {
		seen[n]++
	}
	if n := seen["blobs/sha256/"+strings.TrimPrefix(rb.manifest.Layers[0].Digest, "sha256:")]; n != 1 {
		t.Fatalf("the shared layer is stored %d times", n)
	}
	if len(rb.manifest.Layers) != 2 {
		t.Fatalf("manifest lists %d layers, want 2", len(rb.manifest.Layers))
	}
}

func TestImageArchiveWithAnExplicitPathKeepsIt(t *testing.T) {
	img := &Image{Names: []string{"x"}, Config: Config{Env: []string{"PATH=/opt/bin"}}}
	data, err := img.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if env := readArchive(t, data).config.Config.Env; !reflect.DeepEqual(env, []string{"PATH=/opt/bin"}) {
		t.Fatalf("env = %q", env)
	}
}

func TestImageArchiveRejectsBadImages(t *testing.T) {
	bad := NewLayer()
	bad.Hardlink("a", "missing")
	for _, tc := range []struct {
		name string
		img  *Image
		want string
	}{
		{"an image without a name", &Image{}, "no name"},
		{"an image with an invalid name", &Image{Names: []string{"Bad Name"}}, "invalid"},
		{"an env entry without =", &Image{Names: []string{"x"}, Config: Config{Env: []string{"JUSTNAME"}}}, "not NAME=value"},
		{"a layer with a broken hard link", &Image{Names: []string{"x"}, Layers: []*Layer{bad}}, "layer 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.img.Bytes()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestImageWriteFileReplacesTheFileWhole(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "img.tar")
	if err := os.WriteFile(file, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := testImage().WriteFile(file); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	readArchive(t, data)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("dir holds %d files, want only img.tar (no temp file left)", len(entries))
	}
	if err := (&Image{}).WriteFile(file); err == nil {
		t.Fatal("WriteFile of a bad image succeeded")
	}
	if data2, _ := os.ReadFile(file); !bytes.Equal(data, data2) {
		t.Fatal("a failed WriteFile changed the file")
	}
}
