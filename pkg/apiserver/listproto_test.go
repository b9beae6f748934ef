package apiserver

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The hand-assembled list is byte for byte what marshalling the typed list
// inside a runtime.Unknown gives.
func TestProtobufListMatchesMarshal(t *testing.T) {
	lm := metav1.ListMeta{ResourceVersion: "42", Continue: "abc", RemainingItemCount: nil}
	meta, err := lm.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var items [][]byte
	list := &corev1.ConfigMapList{ListMeta: lm}
	for _, name := range []string{"a", "b", "a-long-name-" + string(bytes.Repeat([]byte("x"), 300))} {
		cm := corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Data: map[string]string{"k": name}}
		b, err := cm.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, b)
		list.Items = append(list.Items, cm)
	}
	raw, err := list.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "v1", Kind: "ConfigMapList"}, Raw: raw}
	enc, err := unk.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte{}, protobufPrefix...), enc...)
	got, err := protobufList(nil, "v1", "ConfigMapList", meta, items)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("protobufList differs from the marshalled list:\n got %x\nwant %x", got, want)
	}
	if cap(got) != len(got) {
		t.Errorf("allocated %d bytes for %d", cap(got), len(got))
	}
	// A pooled buffer still holding an earlier, longer list is overwritten, not appended to.
	used := bytes.Repeat([]byte{0xff}, 2*len(want))
	again, err := protobufList(used, "v1", "ConfigMapList", meta, items)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, want) || &again[0] != &used[0] {
		t.Fatalf("protobufList into a used buffer: got %x, reused %v", again, &again[0] == &used[0])
	}
}
