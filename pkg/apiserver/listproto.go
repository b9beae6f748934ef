package apiserver

import (
	"encoding/binary"
	"net/http"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/storage"
)

// protobufPrefix starts every protobuf-encoded object, as upstream's serializer writes it.
var protobufPrefix = []byte{0x6b, 0x38, 0x73, 0x00}

// writeProtobufList answers a list in protobuf from items' cached encodings, so a
// large list costs a copy, not an encoding of every object. The bytes are what the
// protobuf serializer would write for the typed list: the k8s prefix, then a
// runtime.Unknown holding the list message (field 1 metadata, field 2 items).
func (q *request) writeProtobufList(result *storage.ListResult) error {
	lm := metav1.ListMeta{ResourceVersion: strconv.FormatInt(result.ResourceVersion, 10), Continue: result.Continue,
		RemainingItemCount: result.Remaining}
	meta, err := lm.Marshal()
	if err != nil {
		return err
	}
	gvk := q.res.GroupVersionKind()
	buf := listBuffers.Get().(*[]byte)
	out, err := protobufList((*buf)[:0], gvk.GroupVersion().String(), gvk.Kind+"List", meta, result.Protobuf)
	if err != nil {
		listBuffers.Put(buf)
		return err
	}
	q.setWarnings()
	writeBytes(q.w, q.r, http.StatusOK, mediaProtobuf, out)
	// The response writer has sent every byte by now, so the buffer is free for
	// the next list: a list of thousands of objects then costs no megabytes of
	// fresh garbage, and no collection to reclaim them. A request that ended
	// early may leave a write in flight: its buffer is left to the collector.
	if cap(out) <= maxPooledList && q.r.Context().Err() == nil {
		*buf = out
		listBuffers.Put(buf)
	}
	return nil
}

// maxPooledList bounds the buffers kept for reuse; a rare huge list is left to
// the collector rather than held for ever.
const maxPooledList = 64 << 20

var listBuffers = sync.Pool{New: func() any { b := make([]byte, 0); return &b }}

// protobufList encodes into dst (grown if too small) what the protobuf serializer writes for
// a list: the k8s prefix, then a runtime.Unknown (field 1 typeMeta, field 2 raw,
// fields 3 and 4 the empty content encoding and type) whose raw bytes are the
// list message (field 1 metadata, field 2 each item).
func protobufList(dst []byte, apiVersion, kind string, meta []byte, items [][]byte) ([]byte, error) {
	tm := runtime.TypeMeta{APIVersion: apiVersion, Kind: kind}
	tmBytes, err := tm.Marshal()
	if err != nil {
		return nil, err
	}
	bodyLen := 1 + uvarintLen(uint64(len(meta))) + len(meta)
	for _, b := range items {
		bodyLen += 1 + uvarintLen(uint64(len(b))) + len(b)
	}
	size := len(protobufPrefix) + 1 + uvarintLen(uint64(len(tmBytes))) + len(tmBytes) +
		1 + uvarintLen(uint64(bodyLen)) + bodyLen + 2 + 2
	out := dst[:0]
	if cap(out) < size {
		out = make([]byte, 0, size)
	}
	out = append(out, protobufPrefix...)
	out = appendField(out, 1, tmBytes)
	out = append(out, byte(2<<3|2))
	out = binary.AppendUvarint(out, uint64(bodyLen))
	out = appendField(out, 1, meta)
	for _, b := range items {
		out = appendField(out, 2, b)
	}
	// contentEncoding and contentType, empty but present as gogo writes them.
	out = append(out, byte(3<<3|2), 0, byte(4<<3|2), 0)
	return out, nil
}

func appendField(b []byte, field int, msg []byte) []byte {
	b = append(b, byte(field<<3|2))
	b = binary.AppendUvarint(b, uint64(len(msg)))
	return append(b, msg...)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
