package openapi

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// docWriter streams a document of encoded values and raw schema bytes to w,
// keeping the first error.
type docWriter struct {
	w   io.Writer
	enc bytes.Buffer
	err error
}

// json encodes v compactly without escaping <, > and &, as upstream serves it.
func (w *docWriter) json(v interface{}) {
	if w.err != nil {
		return
	}
	w.enc.Reset()
	enc := json.NewEncoder(&w.enc)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.err = err
		return
	}
	w.bytes(bytes.TrimSuffix(w.enc.Bytes(), []byte("\n"))) // Encode's newline
}

func (w *docWriter) raw(s string) { w.bytes([]byte(s)) }

func (w *docWriter) bytes(b []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

// pathItems writes an object of path items in path order, one item at a time
// so that no encoding of the whole map is ever held.
func pathItems[T any](w *docWriter, items map[string]T) {
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.raw("{")
	for i, k := range keys {
		if i > 0 {
			w.raw(",")
		}
		w.json(k)
		w.raw(":")
		w.json(items[k])
	}
	w.raw("}")
}

// schemas writes name:schema pairs of the named definitions, each with its kinds.
func (w *docWriter) schemas(names []string, defs *definitions, v3 bool) {
	for i, name := range names {
		if i > 0 {
			w.raw(",")
		}
		w.json(name)
		w.raw(":")
		d := defs.byName[name]
		if v3 {
			w.bytes(withKinds(d.v3, d.kinds))
		} else {
			w.bytes(withKinds(d.v2, d.kinds))
		}
	}
}

// withKinds appends the x-kubernetes-group-version-kind extension to an encoded
// schema object, written as upstream writes it (keys group, kind, version).
func withKinds(schemaJSON []byte, kinds []schema.GroupVersionKind) []byte {
	if len(kinds) == 0 {
		return schemaJSON
	}
	body := trimClosingBrace(schemaJSON)
	out := make([]byte, 0, len(body)+64*len(kinds)+40)
	out = append(out, body...)
	if len(body) > 1 {
		out = append(out, ',')
	}
	out = append(out, `"x-kubernetes-group-version-kind":[`...)
	for i, k := range kinds {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"group":`...)
		out = strconv.AppendQuote(out, k.Group)
		out = append(out, `,"kind":`...)
		out = strconv.AppendQuote(out, k.Kind)
		out = append(out, `,"version":`...)
		out = strconv.AppendQuote(out, k.Version)
		out = append(out, '}')
	}
	return append(out, "]}"...)
}

// trimClosingBrace drops the closing brace of an encoded object.
func trimClosingBrace(obj []byte) []byte {
	i := bytes.LastIndexByte(obj, '}')
	if i < 0 {
		return obj
	}
	return obj[:i]
}
