package imageimport

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/pkg/images"
)

func openBytes(b []byte) opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// testImage is a one-file image under two names.
func testImage(t *testing.T) []byte {
	t.Helper()
	l := images.NewLayer()
	l.File("hello.txt", 0o644, []byte("hi\n"))
	img := &images.Image{Names: []string{"example.com/app:1", "busybox:1.36"}, Config: images.Config{Cmd: []string{"sh"}}, Layers: []*images.Layer{l}}
	b, err := img.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tarEntries reads every regular file of a tarball.
func tarEntries(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, _ := io.ReadAll(tr)
			out[hdr.Name] = data
		}
	}
}

// writeTar writes files as a tarball, in the order given.
func writeTar(t *testing.T, files ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		name, data := files[i].(string), files[i+1].([]byte)
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	return buf.Bytes()
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// configIDOf is the config digest in the OCI manifest of our writer's tarball.
func configIDOf(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var idx manifestOrIndex
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	var m manifestOrIndex
	json.Unmarshal(files["blobs/sha256/"+strings.TrimPrefix(idx.Manifests[0].Digest, "sha256:")], &m)
	return m.Config.Digest
}

func TestInspectReadsNamesAndConfigDigestsOfOurTarballs(t *testing.T) {
	b := testImage(t)
	want := configIDOf(t, tarEntries(t, b))
	got, err := Inspect(openBytes(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "example.com/app:1" || got[1].Name != "docker.io/library/busybox:1.36" {
		t.Fatalf("names: %+v", got)
	}
	for _, g := range got {
		if g.ID != want {
			t.Errorf("%s: id %s, want %s", g.Name, g.ID, want)
		}
	}
}

func TestInspectReadsGzippedTarballs(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(testImage(t))
	zw.Close()
	got, err := Inspect(openBytes(gz.Bytes()))
	if err != nil || len(got) != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestInspectReadsADockerArchiveByItsManifestJSON(t *testing.T) {
	files := tarEntries(t, testImage(t))
	want := configIDOf(t, files)
	var m []dockerManifestEntry
	json.Unmarshal(files["manifest.json"], &m)
	// docker save's layout: the config as <hex>.json, short names in RepoTags.
	cfgName := strings.TrimPrefix(want, "sha256:") + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"busybox:latest"}, "Layers": []string{}}})
	b := writeTar(t, "manifest.json", manifest, cfgName, files[m[0].Config])
	got, err := Inspect(openBytes(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "docker.io/library/busybox:latest" || got[0].ID != want {
		t.Fatalf("got %+v, want busybox:latest with id %s", got, want)
	}
}

func TestInspectFollowsAMultiPlatformIndexToThisMachine(t *testing.T) {
	files := tarEntries(t, testImage(t))
	var idx manifestOrIndex
	json.Unmarshal(files["index.json"], &idx)
	mine := idx.Manifests[0]
	other := descriptor{MediaType: images.MediaTypeManifest, Digest: "sha256:" + strings.Repeat("0", 64),
		Platform: &platform{OS: "linux", Architecture: "s390x-nowhere"}}
	mine.Annotations = nil
	mine.Platform = &platform{OS: "linux", Architecture: runtime.GOARCH}
	inner, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": images.MediaTypeIndex, "manifests": []descriptor{other, mine}})
	innerDigest := digestOf(inner)
	outer, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []descriptor{{
		MediaType: images.MediaTypeIndex, Digest: innerDigest,
		Annotations: map[string]string{images.AnnotationContainerdName: "multi:1"},
	}}})
	var list []any
	for name, data := range files {
		if strings.HasPrefix(name, "blobs/") {
			list = append(list, name, data)
		}
	}
	list = append(list, "blobs/sha256/"+strings.TrimPrefix(innerDigest, "sha256:"), inner,
		"oci-layout", files["oci-layout"], "index.json", outer)
	got, err := Inspect(openBytes(writeTar(t, list...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "docker.io/library/multi:1" || got[0].ID != configIDOf(t, files) {
		t.Fatalf("got %+v", got)
	}
}

func TestInspectRejectsWhatIsNoImage(t *testing.T) {
	for name, b := range map[string][]byte{
		"random bytes":                 []byte("this is not a tarball at all, just some text that goes on for a while........"),
		"an empty tarball":             writeTar(t),
		"a tarball of other files":     writeTar(t, "etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n")),
		"an OCI layout with no index":  writeTar(t, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)),
		"a manifest.json that is junk": writeTar(t, "manifest.json", []byte("{{")),
		"a manifest without its config": writeTar(t, "manifest.json",
			[]byte(`[{"Config":"blobs/sha256/abc","RepoTags":["x:1"]}]`)),
		"a truncated gzip": {0x1f, 0x8b, 0x08, 0, 0, 0},
	} {
		if got, err := Inspect(openBytes(b)); err == nil {
			t.Errorf("%s: accepted, got %+v", name, got)
		}
	}
}

func TestCtrOutputGivesTheUnpackedNames(t *testing.T) {
	out := "unpacking docker.io/library/busybox:1.36 (sha256:3f4e5a)...done\nunpacking example.com/app:1 (sha256:3f4e5a)...done\n"
	got := unpackedNames(out)
	if len(got) != 2 || got[0] != "docker.io/library/busybox:1.36" || got[1] != "example.com/app:1" {
		t.Errorf("got %q", got)
	}
}
