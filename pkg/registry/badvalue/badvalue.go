// Package badvalue renders the invalid values of validation errors the way
// upstream's messages show them. Upstream validates its internal types, which
// have no JSON tags, so a struct in a message reads {"Type":"X","RollingUpdate":null}
// where the served type would read {"type":"X"}.
package badvalue

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// Internal wraps v so that it marshals like upstream's internal form of it:
// structs of k8s.io/api types under their Go field names, with nothing
// omitted; everything else (metav1, intstr, quantities) as it marshals itself.
func Internal(v interface{}) json.Marshaler { return internal{v} }

type internal struct{ v interface{} }

// MarshalJSON implements json.Marshaler.
func (i internal) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b, reflect.ValueOf(i.v)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var marshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()

func write(b *bytes.Buffer, v reflect.Value) error {
	if !v.IsValid() {
		b.WriteString("null")
		return nil
	}
	t := v.Type()
	if !isAPIType(t) || t.Implements(marshalerType) {
		return plain(b, v)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return write(b, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('[')
		for j := 0; j < v.Len(); j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			if err := write(b, v.Index(j)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case reflect.Struct:
		b.WriteByte('{')
		n := 0
		for j := 0; j < t.NumField(); j++ {
			f := t.Field(j)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous && !isAPIType(f.Type) {
				// Internal types embed ObjectMeta and TypeMeta untagged, so
				// their tagged fields appear inline.
				members, err := inlineMembers(v.Field(j))
				if err != nil {
					return err
				}
				if len(members) > 0 {
					if n > 0 {
						b.WriteByte(',')
					}
					n++
					b.Write(members)
				}
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			name, _ := json.Marshal(f.Name)
			b.Write(name)
			b.WriteByte(':')
			if err := write(b, v.Field(j)); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	return plain(b, v)
}

// inlineMembers returns the members of v's JSON object without the braces.
func inlineMembers(v reflect.Value) ([]byte, error) {
	out, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, err
	}
	out = bytes.TrimSpace(out)
	if len(out) < 2 || out[0] != '{' {
		return nil, nil
	}
	return out[1 : len(out)-1], nil
}

func plain(b *bytes.Buffer, v reflect.Value) error {
	out, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

// isAPIType: only the k8s.io/api types have internal twins; pointers and
// slices are looked through.
func isAPIType(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), "k8s.io/api/")
}
