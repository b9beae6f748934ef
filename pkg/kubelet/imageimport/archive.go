package imageimport

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"

	"github.com/minik8s/minik8s/pkg/images"
)

// ArchiveImage is one image a tarball holds.
type ArchiveImage struct {
	// Name is the full reference it is imported under (docker.io/library/busybox:1.36).
	Name string
	// ID is the digest of its config: the image id the CRI reports.
	ID string
}

// maxMetadata bounds the JSON files read from a tarball (indexes, manifests,
// configs); real ones are a few KiB.
const maxMetadata = 4 << 20

// opener opens the tarball from its start; Inspect reads it more than once
// instead of holding layers in memory.
type opener func() (io.ReadCloser, error)

// Inspect reads the names and config digests of the images in a tarball,
// without importing it. A docker-archive names its images in manifest.json; an
// OCI archive in index.json's io.containerd.image.name annotations (images
// named only by a bare org.opencontainers.image.ref.name tag are left out: ctr
// would invent a name for them). A tarball that is both is read as OCI, as
// containerd reads it.
func Inspect(open opener) ([]ArchiveImage, error) {
	top, err := readEntries(open, func(name string) bool {
		return name == "index.json" || name == "manifest.json" || name == "oci-layout"
	})
	if err != nil {
		return nil, err
	}
	if _, ok := top["oci-layout"]; ok {
		if idx, ok := top["index.json"]; ok {
			return inspectOCI(open, idx)
		}
		return nil, errors.New("OCI layout without index.json")
	}
	if m, ok := top["manifest.json"]; ok {
		return inspectDocker(open, m)
	}
	return nil, errors.New("neither an OCI archive (oci-layout, index.json) nor a docker-archive (manifest.json)")
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Platform    *platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// manifestOrIndex reads either kind of OCI document.
type manifestOrIndex struct {
	MediaType string       `json:"mediaType"`
	Config    *descriptor  `json:"config,omitempty"`
	Manifests []descriptor `json:"manifests,omitempty"`
}

func inspectOCI(open opener, indexJSON []byte) ([]ArchiveImage, error) {
	var idx manifestOrIndex
	if err := json.Unmarshal(indexJSON, &idx); err != nil {
		return nil, fmt.Errorf("read index.json: %w", err)
	}
	var out []ArchiveImage
	for _, d := range idx.Manifests {
		name := d.Annotations[images.AnnotationContainerdName]
		if name == "" {
			continue
		}
		full, err := images.NormalizeName(name)
		if err != nil {
			return nil, fmt.Errorf("index.json: %w", err)
		}
		id, err := configDigest(open, d)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", full, err)
		}
		out = append(out, ArchiveImage{Name: full, ID: id})
	}
	return out, nil
}

// configDigest follows a descriptor (through a multi-platform index, to this
// machine's platform) down to the image config.
func configDigest(open opener, d descriptor) (string, error) {
	for depth := 0; depth < 4; depth++ {
		blob, err := readBlob(open, d.Digest)
		if err != nil {
			return "", err
		}
		var doc manifestOrIndex
		if err := json.Unmarshal(blob, &doc); err != nil {
			return "", fmt.Errorf("read %s: %w", d.Digest, err)
		}
		if doc.Config != nil {
			return doc.Config.Digest, nil
		}
		next, ok := pickPlatform(doc.Manifests)
		if !ok {
			return "", fmt.Errorf("index %s has no manifest for linux/%s", d.Digest, runtime.GOARCH)
		}
		d = next
	}
	return "", errors.New("indexes nested too deep")
}

func pickPlatform(ds []descriptor) (descriptor, bool) {
	for _, d := range ds {
		if d.Platform == nil || (d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH) {
			return d, true
		}
	}
	return descriptor{}, false
}

func readBlob(open opener, digest string) ([]byte, error) {
	algo, hexPart, ok := strings.Cut(digest, ":")
	if !ok || algo != "sha256" {
		return nil, fmt.Errorf("unsupported digest %q", digest)
	}
	name := "blobs/sha256/" + hexPart
	found, err := readEntries(open, func(n string) bool { return n == name })
	if err != nil {
		return nil, err
	}
	blob, ok := found[name]
	if !ok {
		return nil, fmt.Errorf("blob %s missing from the archive", digest)
	}
	return blob, nil
}

type dockerManifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
}

func inspectDocker(open opener, manifestJSON []byte) ([]ArchiveImage, error) {
	var entries []dockerManifestEntry
	if err := json.Unmarshal(manifestJSON, &entries); err != nil {
		return nil, fmt.Errorf("read manifest.json: %w", err)
	}
	want := map[string]bool{}
	for _, e := range entries {
		want[path.Clean(e.Config)] = true
	}
	configs, err := readEntries(open, func(n string) bool { return want[n] })
	if err != nil {
		return nil, err
	}
	var out []ArchiveImage
	for _, e := range entries {
		cfg, ok := configs[path.Clean(e.Config)]
		if !ok {
			return nil, fmt.Errorf("config %s missing from the archive", e.Config)
		}
		sum := sha256.Sum256(cfg)
		id := "sha256:" + hex.EncodeToString(sum[:])
		for _, tag := range e.RepoTags {
			full, err := images.NormalizeName(tag)
			if err != nil {
				return nil, fmt.Errorf("manifest.json: %w", err)
			}
			out = append(out, ArchiveImage{Name: full, ID: id})
		}
	}
	return out, nil
}

// readEntries returns the contents of the tar entries want selects, reading
// the archive (gunzipped if need be) once.
func readEntries(open opener, want func(name string) bool) (map[string][]byte, error) {
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := decompressed(f)
	if err != nil {
		return nil, err
	}
	found := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tarball: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if hdr.Typeflag != tar.TypeReg || !want(name) {
			continue
		}
		if hdr.Size > maxMetadata {
			return nil, fmt.Errorf("%s is %d bytes, more than image metadata can be", name, hdr.Size)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		found[name] = data
	}
}

// decompressed undoes gzip when the stream starts with its magic number.
func decompressed(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}
