package nodelifecycle

import (
	"sync"
	"time"

	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
)

// tainterBurst is the burst of every zone's tainting rate limiter, as upstream.
const tainterBurst = 1

// zoneTainter queues the nodes of one zone waiting for a NoExecute taint and
// lets them through at the zone's rate, so a zone losing many nodes at once
// does not have all their pods evicted at once.
type zoneTainter struct {
	mu      sync.Mutex
	clock   clock.Clock
	limiter flowcontrol.RateLimiter
	qps     float32
	queue   []queuedNode
	// known holds the nodes queued or already handled; a handled node is not
	// queued again until removed (it recovered or lost its taint).
	known map[string]bool
}

type queuedNode struct {
	name      string
	processAt time.Time
}

func newZoneTainter(qps float32, clk clock.Clock) *zoneTainter {
	z := &zoneTainter{clock: clk, known: map[string]bool{}}
	z.limiter = z.newLimiter(qps)
	z.qps = qps
	return z
}

func (z *zoneTainter) newLimiter(qps float32) flowcontrol.RateLimiter {
	if qps <= 0 {
		return flowcontrol.NewFakeNeverRateLimiter()
	}
	return flowcontrol.NewTokenBucketRateLimiterWithClock(qps, tainterBurst, z.clock)
}

// setRate changes the zone's rate. A zone that has just used its token does
// not get a fresh one from the change.
func (z *zoneTainter) setRate(qps float32) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.qps == qps {
		return
	}
	next := z.newLimiter(qps)
	if qps > 0 && !z.limiter.TryAccept() {
		next.TryAccept()
	}
	z.limiter.Stop()
	z.limiter, z.qps = next, qps
}

// rate reports the zone's current rate.
func (z *zoneTainter) rate() float32 {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.qps
}

// add queues a node unless it is queued or handled; it reports whether it did.
func (z *zoneTainter) add(name string) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.known[name] {
		return false
	}
	z.known[name] = true
	z.queue = append(z.queue, queuedNode{name: name, processAt: z.clock.Now()})
	return true
}

// remove forgets a node entirely, so it can be queued again; it reports whether
// the node was known.
func (z *zoneTainter) remove(name string) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	if !z.known[name] {
		return false
	}
	delete(z.known, name)
	z.dropLocked(name)
	return true
}

func (z *zoneTainter) dropLocked(name string) {
	for i, q := range z.queue {
		if q.name == name {
			z.queue = append(z.queue[:i], z.queue[i+1:]...)
			return
		}
	}
}

// queued lists the queued node names, in order.
func (z *zoneTainter) queued() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []string
	for _, q := range z.queue {
		out = append(out, q.name)
	}
	return out
}

// try hands queued nodes to taint while the rate allows. taint reports success,
// or failure and how long to wait before the node is tried again. A node
// handled successfully stays known.
func (z *zoneTainter) try(taint func(name string) (bool, time.Duration)) {
	for {
		z.mu.Lock()
		if len(z.queue) == 0 || !z.limiter.TryAccept() {
			z.mu.Unlock()
			return
		}
		head := z.queue[0]
		now := z.clock.Now()
		if now.Before(head.processAt) {
			z.mu.Unlock()
			return
		}
		z.mu.Unlock()
		ok, wait := taint(head.name)
		z.mu.Lock()
		if !z.known[head.name] {
			// Removed while being tainted.
			z.mu.Unlock()
			continue
		}
		z.dropLocked(head.name)
		if !ok {
			z.queue = append(z.queue, queuedNode{name: head.name, processAt: now.Add(wait + time.Nanosecond)})
			sortQueue(z.queue)
		}
		z.mu.Unlock()
	}
}

// sortQueue keeps the queue ordered by when nodes may be processed (stable).
func sortQueue(q []queuedNode) {
	for i := len(q) - 1; i > 0 && q[i].processAt.Before(q[i-1].processAt); i-- {
		q[i], q[i-1] = q[i-1], q[i]
	}
}
