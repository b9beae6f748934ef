package job

import (
	"encoding/json"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// finalizerExpectations remembers, per job, the pods whose tracking finalizer
// the controller removed but the cache still shows: they are counted already
// and must not be counted again.
type finalizerExpectations struct {
	mu sync.Mutex
	m  map[string]sets.Set[types.UID]
}

func newFinalizerExpectations() *finalizerExpectations {
	return &finalizerExpectations{m: map[string]sets.Set[types.UID]{}}
}

func (e *finalizerExpectations) expect(key string, uids []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.m[key]
	if !ok {
		s = sets.New[types.UID]()
		e.m[key] = s
	}
	s.Insert(uids...)
}

func (e *finalizerExpectations) observed(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.m[key]; ok {
		s.Delete(uid)
		if s.Len() == 0 {
			delete(e.m, key)
		}
	}
}

// pending returns a copy of the awaited UIDs of key.
func (e *finalizerExpectations) pending(key string) sets.Set[types.UID] {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.m[key].Clone()
}

func (e *finalizerExpectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// removeFinalizerPatch is the strategic merge patch that drops the tracking
// finalizer and nothing else; nil when the pod has none.
func removeFinalizerPatch(p *corev1.Pod) []byte {
	if !hasTrackingFinalizer(p) {
		return nil
	}
	b, _ := json.Marshal(map[string]interface{}{
		"metadata": map[string]interface{}{"$deleteFromPrimitiveList/finalizers": []string{batchv1.JobTrackingFinalizer}},
	})
	return b
}
