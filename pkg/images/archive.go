package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// DefaultPath is the PATH an image gets when its Env sets none, as Docker's builder does.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Config is the run configuration of an image.
type Config struct {
	Entrypoint []string
	Cmd        []string
	// Env entries are NAME=value; DefaultPath is added when none sets PATH.
	Env        []string
	WorkingDir string
	// User is a name or uid, optionally with ":group".
	User string
	// ExposedPorts are "80", "80/tcp" or "53/udp".
	ExposedPorts []string
	Labels       map[string]string
	StopSignal   string
}

// Image is an image to write as a tarball.
type Image struct {
	// Names are the references the image is imported under, e.g. "busybox:1.36";
	// each is normalized (docker.io/library/busybox:1.36).
	Names  []string
	Config Config
	// Layers from the bottom up.
	Layers []*Layer
	// Architecture is a GOARCH value; empty means the one this program runs on.
	Architecture string
}

// Write writes the image as a tarball that is both an OCI image layout and a
// docker-archive.
func (img *Image) Write(w io.Writer) error {
	if len(img.Names) == 0 {
		return errors.New("write image: no name")
	}
	names := make([]string, 0, len(img.Names))
	for _, n := range img.Names {
		full, err := NormalizeName(n)
		if err != nil {
			return fmt.Errorf("write image: %w", err)
		}
		names = append(names, full)
	}
	arch := img.Architecture
	if arch == "" {
		arch = runtime.GOARCH
	}

	var layers []blob
	for i, l := range img.Layers {
		data, err := l.Tar()
		if err != nil {
			return fmt.Errorf("write image %s: layer %d: %w", names[0], i, err)
		}
		layers = append(layers, newBlob(data))
	}
	cfg, err := img.configJSON(arch, layers)
	if err != nil {
		return fmt.Errorf("write image %s: %w", names[0], err)
	}
	config := newBlob(cfg)

	manifest := ociManifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Config: config.descriptor(MediaTypeConfig)}
	for _, l := range layers {
		manifest.Layers = append(manifest.Layers, l.descriptor(MediaTypeLayer))
	}
	manifestBlob := newBlob(mustJSON(manifest))

	index := ociIndex{SchemaVersion: 2, MediaType: MediaTypeIndex}
	for _, n := range names {
		d := manifestBlob.descriptor(MediaTypeManifest)
		d.Platform = &ociPlatform{Architecture: arch, OS: "linux"}
		d.Annotations = map[string]string{AnnotationContainerdName: n, AnnotationRefName: tagOf(n)}
		index.Manifests = append(index.Manifests, d)
	}
	docker := []dockerManifestEntry{{Config: config.path(), RepoTags: names}}
	for _, l := range layers {
		docker[0].Layers = append(docker[0].Layers, l.path())
	}

	tw := tar.NewWriter(w)
	add := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: Epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write image %s: %s: %w", names[0], name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("write image %s: %s: %w", names[0], name, err)
		}
		return nil
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: Epoch}); err != nil {
			return fmt.Errorf("write image %s: %w", names[0], err)
		}
	}
	seen := map[string]bool{}
	for _, b := range append(append(layers, config), manifestBlob) {
		if seen[b.digest] {
			continue // two identical layers are stored once
		}
		seen[b.digest] = true
		if err := add(b.path(), b.data); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", mustJSON(index)},
		{"manifest.json", mustJSON(docker)},
	} {
		if err := add(f.name, f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write image %s: %w", names[0], err)
	}
	return nil
}

func (img *Image) configJSON(arch string, layers []blob) ([]byte, error) {
	c := img.Config
	rc := runConfig{
		User:       c.User,
		Env:        append([]string(nil), c.Env...),
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		WorkingDir: c.WorkingDir,
		Labels:     c.Labels,
		StopSignal: c.StopSignal,
	}
	hasPath := false
	for _, e := range rc.Env {
		if !strings.Contains(e, "=") {
			return nil, fmt.Errorf("env %q is not NAME=value", e)
		}
		hasPath = hasPath || strings.HasPrefix(e, "PATH=")
	}
	if !hasPath {
		rc.Env = append([]string{DefaultPath}, rc.Env...)
	}
	if len(c.ExposedPorts) > 0 {
		rc.ExposedPorts = map[string]struct{}{}
		for _, p := range c.ExposedPorts {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			rc.ExposedPorts[p] = struct{}{}
		}
	}
	created := Epoch.Format("2006-01-02T15:04:05Z")
	cfg := imageConfig{
		Created:      created,
		Architecture: arch,
		OS:           "linux",
		Config:       rc,
		RootFS:       rootFS{Type: "layers", DiffIDs: []string{}},
	}
	for _, l := range layers {
		// Layers are stored uncompressed, so a layer's digest is also its diff ID.
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.digest)
		cfg.History = append(cfg.History, historyRecord{Created: created, CreatedBy: "minik8s pkg/images"})
	}
	return mustJSON(cfg), nil
}

// Bytes returns the tarball Write writes.
func (img *Image) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := img.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile writes the tarball to file, replacing it whole or not at all.
func (img *Image) WriteFile(file string) error {
	data, err := img.Bytes()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("write image file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write image file %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write image file %s: %w", file, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write image file %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write image file %s: %w", file, err)
	}
	return nil
}

// mustJSON marshals the documents above, which cannot fail to marshal. Map keys
// come out sorted, so the bytes are stable.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("images: marshal %T: %v", v, err))
	}
	return b
}
