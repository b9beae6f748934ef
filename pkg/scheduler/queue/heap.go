package queue

import (
	"container/heap"

	"github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// podHeap is a heap of queued pods with lookup by key.
type podHeap struct {
	items []*framework.QueuedPodInfo
	index map[string]int
	less  func(a, b *framework.QueuedPodInfo) bool
}

func newPodHeap(less func(a, b *framework.QueuedPodInfo) bool) *podHeap {
	return &podHeap{index: map[string]int{}, less: less}
}

func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[key(h.items[i])] = i
	h.index[key(h.items[j])] = j
}
func (h *podHeap) Push(x any) {
	p := x.(*framework.QueuedPodInfo)
	h.index[key(p)] = len(h.items)
	h.items = append(h.items, p)
}
func (h *podHeap) Pop() any {
	last := len(h.items) - 1
	p := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	delete(h.index, key(p))
	return p
}

// addOrUpdate puts p in the heap, replacing the entry with the same key.
func (h *podHeap) addOrUpdate(p *framework.QueuedPodInfo) {
	if i, ok := h.index[key(p)]; ok {
		h.items[i] = p
		heap.Fix(h, i)
		return
	}
	heap.Push(h, p)
}

func (h *podHeap) get(k string) *framework.QueuedPodInfo {
	if i, ok := h.index[k]; ok {
		return h.items[i]
	}
	return nil
}

func (h *podHeap) remove(k string) *framework.QueuedPodInfo {
	i, ok := h.index[k]
	if !ok {
		return nil
	}
	return heap.Remove(h, i).(*framework.QueuedPodInfo)
}

func (h *podHeap) peek() *framework.QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

func (h *podHeap) pop() *framework.QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return heap.Pop(h).(*framework.QueuedPodInfo)
}

func key(p *framework.QueuedPodInfo) string { return podKey(p.Pod.Namespace, p.Pod.Name) }

func podKey(ns, name string) string { return ns + "/" + name }
