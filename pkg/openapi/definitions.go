package openapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// definitionsGz holds one record per schema; hack/openapi/export writes it.
//
//go:embed definitions.bin.gz
var definitionsGz []byte

// definitionsFormat is the data's first line; see hack/openapi/export.Format.
const definitionsFormat = "minik8s-openapi-definitions/2\n"

// definition is one schema in its v2 and v3 forms.
type definition struct {
	name string
	// refs are the schemas this one references directly.
	refs []string
	// kinds are the kinds registered for the type: its x-kubernetes-group-version-kind.
	kinds []schema.GroupVersionKind
	// v2 and v3 are read only for the schemas a document uses.
	v2, v3 []byte
}

// definitions are schemas by name, such as io.k8s.api.core.v1.Pod, and the
// schema of each kind.
type definitions struct {
	all    []*definition // in data order
	byName map[string]*definition
	byKind map[schema.GroupVersionKind]string
	bodies *frameReader // positioned at the schemas, after the index
}

// openDefinitions reads the index of the embedded schemas: names, references
// and kinds. The framing is read by hand: a JSON decoder would page in more of
// the binary than the data itself.
func openDefinitions() (*definitions, error) {
	zr, err := gzip.NewReader(bytes.NewReader(definitionsGz))
	if err != nil {
		return nil, fmt.Errorf("read embedded OpenAPI definitions: %w", err)
	}
	r := &frameReader{r: bufio.NewReader(zr)}
	if r.fixed(len(definitionsFormat)) != definitionsFormat {
		return nil, errors.New("read embedded OpenAPI definitions: unknown format; regenerate with go generate ./pkg/openapi")
	}
	n := r.uvarint()
	defs := &definitions{all: make([]*definition, 0, n), byName: make(map[string]*definition, n),
		byKind: map[schema.GroupVersionKind]string{}, bodies: r}
	for i := 0; i < n && r.err == nil; i++ {
		d := &definition{name: r.str()}
		d.refs = make([]string, r.uvarint())
		for j := range d.refs {
			d.refs[j] = r.str()
		}
		d.kinds = make([]schema.GroupVersionKind, r.uvarint())
		for j := range d.kinds {
			d.kinds[j] = schema.GroupVersionKind{Group: r.str(), Version: r.str(), Kind: r.str()}
			defs.byKind[d.kinds[j]] = d.name
		}
		defs.all = append(defs.all, d)
		defs.byName[d.name] = d
	}
	if r.err != nil {
		return nil, fmt.Errorf("read embedded OpenAPI definitions: %w", r.err)
	}
	return defs, nil
}

// readSchemas reads the v2 and v3 schemas of the named definitions and skips
// the others.
func (defs *definitions) readSchemas(names []string) error {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	r := defs.bodies
	for _, d := range defs.all {
		if want[d.name] {
			d.v2, d.v3 = r.bytes(), r.bytes()
		} else {
			r.skip()
			r.skip()
		}
	}
	if r.err != nil {
		return fmt.Errorf("read embedded OpenAPI definitions: %w", r.err)
	}
	return nil
}

// frameReader reads uvarint-framed strings, keeping the first error.
type frameReader struct {
	r   *bufio.Reader
	err error
}

// maxFrame bounds a frame so corrupt data cannot ask for gigabytes.
const maxFrame = 16 << 20

func (f *frameReader) uvarint() int {
	if f.err != nil {
		return 0
	}
	n, err := binary.ReadUvarint(f.r)
	if err == nil && n > maxFrame {
		err = fmt.Errorf("frame of %d bytes", n)
	}
	if err != nil {
		f.err = err
		return 0
	}
	return int(n)
}

func (f *frameReader) fixed(n int) string { return string(f.read(n)) }
func (f *frameReader) str() string        { return string(f.bytes()) }
func (f *frameReader) bytes() []byte      { return f.read(f.uvarint()) }

func (f *frameReader) skip() {
	n := f.uvarint()
	if f.err == nil {
		_, f.err = f.r.Discard(n)
	}
}

func (f *frameReader) read(n int) []byte {
	if f.err != nil {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f.r, b); err != nil {
		f.err = err
		return nil
	}
	return b
}

// closure returns the roots and every schema they reference, sorted, and the
// names it has no schema for.
func (defs *definitions) closure(roots map[string]bool) (names, missing []string) {
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		d, ok := defs.byName[name]
		if !ok {
			missing = append(missing, name)
			return
		}
		names = append(names, name)
		for _, r := range d.refs {
			visit(r)
		}
	}
	for name := range roots {
		visit(name)
	}
	sort.Strings(names)
	sort.Strings(missing)
	return names, missing
}
