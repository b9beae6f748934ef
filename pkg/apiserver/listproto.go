package apiserver

import (
	"encoding/binary"
	"net/http"
	"strconv"

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
	size := 1 + uvarintLen(uint64(len(meta))) + len(meta)
	for _, b := range result.Protobuf {
		size += 1 + uvarintLen(uint64(len(b))) + len(b)
	}
	body := make([]byte, 0, size)
	body = appendField(body, 1, meta)
	for _, b := range result.Protobuf {
		body = appendField(body, 2, b)
	}
	gvk := q.res.GroupVersionKind()
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind + "List"}, Raw: body}
	enc, err := unk.Marshal()
	if err != nil {
		return err
	}
	out := make([]byte, 0, len(protobufPrefix)+len(enc))
	out = append(append(out, protobufPrefix...), enc...)
	q.setWarnings()
	writeBytes(q.w, q.r, http.StatusOK, mediaProtobuf, out)
	return nil
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
