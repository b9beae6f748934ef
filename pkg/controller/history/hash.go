package history

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/dump"
)

// maxPrefix keeps "<prefix>-<hash>" within the 253 bytes of a name.
const maxPrefix = 223

// Name is a revision's name, "<owner>-<hash>", the owner's name cut to leave
// room for the hash as upstream does.
func Name(owner, hash string) string {
	if len(owner) > maxPrefix {
		owner = owner[:maxPrefix]
	}
	return owner + "-" + hash
}

// HashData is the hash of a revision's data as upstream's StatefulSet history
// computes it: FNV-1 (32 bit) over the raw bytes, then the collision count in
// decimal when there is one, rendered in the alphabet names use. The same data
// gets the same name here as upstream gives it.
func HashData(raw []byte, collisionCount *int32) string {
	h := fnv.New32()
	h.Write(raw)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// TemplateHash is upstream's hash of a pod template (FNV-1a over its deep dump,
// then the collision count as 8 little-endian bytes): DaemonSets name their
// revisions and label their pods with it, Deployments their ReplicaSets.
func TemplateHash(t *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%v", dump.ForHash(*t))
	if collisionCount != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisionCount))
		h.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}
