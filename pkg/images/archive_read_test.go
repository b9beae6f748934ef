package images

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// readBack is an image tarball taken apart the way an importer does, with every
// digest checked against the content it names.
type readBack struct {
	files    map[string][]byte // archive members by name
	order    []string
	index    ociIndex
	manifest ociManifest
	config   imageConfig
	docker   []dockerManifestEntry
	layers   [][]*tar.Header // headers of each layer tar, in order
	layerRaw [][]byte
}

func readArchive(t *testing.T, data []byte) *readBack {
	t.Helper()
	rb := &readBack{files: map[string][]byte{}}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read archive: %v", err)
		}
		rb.order = append(rb.order, hdr.Name)
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read archive member %s: %v", hdr.Name, err)
		}
		rb.files[hdr.Name] = b
	}
	if got := string(rb.files["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Fatalf("oci-layout = %q", got)
	}
	rb.decode(t, rb.files["index.json"], &rb.index)
	if len(rb.index.Manifests) == 0 {
		t.Fatal("index.json has no manifests")
	}
	rb.decode(t, rb.blob(t, rb.index.Manifests[0]), &rb.manifest)
	rb.decode(t, rb.blob(t, rb.manifest.Config), &rb.config)
	rb.decode(t, rb.files["manifest.json"], &rb.docker)
	for i, l := range rb.manifest.Layers {
		raw := rb.blob(t, l)
		if l.MediaType != MediaTypeLayer {
			t.Errorf("layer %d media type = %q", i, l.MediaType)
		}
		if rb.config.RootFS.DiffIDs[i] != l.Digest {
			t.Errorf("layer %d diff_id %s != digest %s of the uncompressed layer", i, rb.config.RootFS.DiffIDs[i], l.Digest)
		}
		var hdrs []*tar.Header
		ltr := tar.NewReader(bytes.NewReader(raw))
		for {
			hdr, err := ltr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("read layer %d: %v", i, err)
			}
			hdrs = append(hdrs, hdr)
		}
		rb.layers = append(rb.layers, hdrs)
		rb.layerRaw = append(rb.layerRaw, raw)
	}
	return rb
}

// blob returns the archive member a descriptor names, checking its size and digest.
func (rb *readBack) blob(t *testing.T, d ociDescriptor) []byte {
	t.Helper()
	name := "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:")
	b, ok := rb.files[name]
	if !ok {
		t.Fatalf("blob %s missing from the archive", d.Digest)
	}
	sum := sha256.Sum256(b)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != d.Digest || int64(len(b)) != d.Size {
		t.Fatalf("blob %s: content has digest %s and size %d, descriptor says size %d", d.Digest, got, len(b), d.Size)
	}
	return b
}

func (rb *readBack) decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %T: %v (%s)", v, err, b)
	}
}

// file returns the content of a regular file in a layer.
func (rb *readBack) file(t *testing.T, layer int, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(rb.layerRaw[layer]))
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("file %s not in layer %d: %v", name, layer, err)
		}
		if hdr.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			return b
		}
	}
}
