package podspec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/diff"
)

// Upstream validates its internal types, which have no JSON tags, so the values it
// prints in messages name fields as Go does and show every field, set or not.
// GoNamed and SpecDiff print our v1 values the same way.

// GoNamed wraps a value so that JSON encoding prints it as upstream's messages do;
// pass it as an error's bad value.
func GoNamed(v interface{}) json.Marshaler { return rawJSON(goNamedJSON(reflect.ValueOf(v))) }

// SpecDiff renders the difference between two specs as upstream's "may not change
// fields" messages show it: a unified diff of Go-named JSON.
func SpecDiff(old, new interface{}) string {
	return diff.Diff(GoNamed(old), GoNamed(new))
}

// rawJSON is pre-encoded JSON that diff's indenting encoder lays out again.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

var marshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()

// goNamedJSON encodes v with Go field names and all fields, keeping struct order.
func goNamedJSON(v reflect.Value) []byte {
	var buf bytes.Buffer
	writeGoNamed(&buf, v)
	return buf.Bytes()
}

func writeGoNamed(buf *bytes.Buffer, v reflect.Value) {
	if !v.IsValid() {
		buf.WriteString("null")
		return
	}
	if v.Type().Implements(marshalerType) && (v.Kind() != reflect.Pointer || !v.IsNil()) {
		if b, err := v.Interface().(json.Marshaler).MarshalJSON(); err == nil {
			buf.Write(b)
			return
		}
	}
	if v.CanAddr() && reflect.PointerTo(v.Type()).Implements(marshalerType) {
		if b, err := v.Addr().Interface().(json.Marshaler).MarshalJSON(); err == nil {
			buf.Write(b)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			buf.WriteString("null")
			return
		}
		writeGoNamed(buf, v.Elem())
	case reflect.Struct:
		buf.WriteByte('{')
		first := true
		writeFields(buf, v, &first)
		buf.WriteByte('}')
	case reflect.Slice:
		if v.IsNil() {
			buf.WriteString("null")
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b, _ := json.Marshal(v.Interface())
			buf.Write(b)
			return
		}
		fallthrough
	case reflect.Array:
		buf.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeGoNamed(buf, v.Index(i))
		}
		buf.WriteByte(']')
	case reflect.Map:
		if v.IsNil() {
			buf.WriteString("null")
			return
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			name, _ := json.Marshal(k.String())
			buf.Write(name)
			buf.WriteByte(':')
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(v.MapIndex(k))
			writeGoNamed(buf, val)
		}
		buf.WriteByte('}')
	default:
		b, err := json.Marshal(v.Interface())
		if err != nil {
			b = []byte("null")
		}
		buf.Write(b)
	}
}

// writeFields writes a struct's exported fields, inlining embedded structs.
func writeFields(buf *bytes.Buffer, v reflect.Value, first *bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || strings.HasPrefix(f.Tag.Get("json"), "-") {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			writeFields(buf, v.Field(i), first)
			continue
		}
		if !*first {
			buf.WriteByte(',')
		}
		*first = false
		name, _ := json.Marshal(f.Name)
		buf.Write(name)
		buf.WriteByte(':')
		writeGoNamed(buf, v.Field(i))
	}
}
