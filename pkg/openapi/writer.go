package openapi

import (
	"bytes"
	"encoding/json"
)

// docWriter assembles a document from encoded values and raw schema bytes,
// keeping the first error.
type docWriter struct {
	buf bytes.Buffer
	err error
}

// json encodes v compactly without escaping <, > and &, as upstream serves it.
func (w *docWriter) json(v interface{}) {
	if w.err != nil {
		return
	}
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.err = err
		return
	}
	w.buf.Truncate(w.buf.Len() - 1) // Encode's newline
}

func (w *docWriter) raw(s string)   { w.buf.WriteString(s) }
func (w *docWriter) bytes(b []byte) { w.buf.Write(b) }

// schemas writes name:schema pairs of the named definitions, each with its kinds.
func (w *docWriter) schemas(names []string, defs definitions, kinds map[string][]byte, v3 bool) {
	for i, name := range names {
		if i > 0 {
			w.raw(",")
		}
		w.json(name)
		w.raw(":")
		d := defs[name].V2
		if v3 {
			d = defs[name].V3
		}
		w.bytes(withKinds(d, kinds[name]))
	}
}

func (w *docWriter) result() ([]byte, error) { return w.buf.Bytes(), w.err }
