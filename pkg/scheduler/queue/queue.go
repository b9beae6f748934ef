package queue

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Profile is what the queue needs of a scheduling profile.
type Profile struct {
	// PreEnqueue plugins may keep a pod out of the active queue (scheduling gates).
	PreEnqueue []framework.PreEnqueuePlugin
	// Events are, per plugin, the cluster events that may make a pod it rejected
	// schedulable again.
	Events map[string][]framework.ClusterEventWithHint
}

// Config configures a queue.
type Config struct {
	Clock clock.WithTicker
	// InitialBackoff doubles per failed attempt up to MaxBackoff.
	InitialBackoff, MaxBackoff time.Duration
	// Less orders the active queue (the QueueSort plugin, shared by all profiles).
	Less func(a, b *framework.QueuedPodInfo) bool
	// Profiles by scheduler name.
	Profiles map[string]*Profile
	// OnChange, if set, hears the queue sizes after every change (metrics).
	OnChange func(active, backoff, unschedulable, gated int)
}

// Queue is the scheduling queue. Safe for concurrent use.
type Queue struct {
	cfg  Config
	mu   sync.Mutex
	cond *sync.Cond

	active *podHeap
	// backoff holds pods that were unschedulable, errBackoff those whose attempt
	// failed with an error. As upstream's (SchedulerPopFromBackoffQ, on by
	// default since v1.33), an idle scheduler takes the next pod from backoff
	// before its time rather than wait; errored pods always wait it out.
	backoff       *podHeap
	errBackoff    *podHeap
	unschedulable map[string]*framework.QueuedPodInfo
	// inFlight are pods popped and not yet done; updated holds newer versions of
	// them that arrived meanwhile.
	inFlight map[types.UID]*corev1.Pod
	updated  map[types.UID]*corev1.Pod

	// schedulingCycle counts pops; moveRequestCycle is the cycle of the last event
	// that moved pods: a pod that fails in a cycle before it was in flight while
	// the cluster changed, so it goes to back-off rather than waiting for another event.
	schedulingCycle  int64
	moveRequestCycle int64

	// rejectedBy counts unschedulable pods per rejecting plugin, so events no
	// rejecting plugin cares about are dismissed without a scan.
	rejectedBy map[string]int
	gated      int

	nominator *Nominator
	wake      chan struct{}
	closed    bool
}

// New makes a queue.
func New(cfg Config) *Queue {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	q := &Queue{
		cfg:           cfg,
		active:        newPodHeap(cfg.Less),
		unschedulable: map[string]*framework.QueuedPodInfo{},
		inFlight:      map[types.UID]*corev1.Pod{},
		updated:       map[types.UID]*corev1.Pod{},
		rejectedBy:    map[string]int{},
		nominator:     NewNominator(),
		wake:          make(chan struct{}, 1),
	}
	byExpiry := func(a, b *framework.QueuedPodInfo) bool {
		return a.BackoffExpiration.Before(b.BackoffExpiration)
	}
	q.backoff, q.errBackoff = newPodHeap(byExpiry), newPodHeap(byExpiry)
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Nominator tracks nominated pods.
func (q *Queue) Nominator() *Nominator { return q.nominator }

// Run moves pods out of back-off as their time comes, until ctx ends; then the
// queue closes and Pop returns nil.
func (q *Queue) Run(ctx context.Context) {
	timer := q.cfg.Clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := q.flushBackoff()
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			q.Close()
			return
		case <-timer.C():
		case <-q.wake:
		}
	}
}

// flushBackoff moves expired pods to the active queue and returns how long until
// the next one expires.
func (q *Queue) flushBackoff() time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.cfg.Clock.Now()
	moved := false
	wait := time.Hour
	for _, h := range []*podHeap{q.backoff, q.errBackoff} {
		for {
			p := h.peek()
			if p == nil {
				break
			}
			if d := p.BackoffExpiration.Sub(now); d > 0 {
				wait = min(wait, d)
				break
			}
			h.pop()
			q.active.addOrUpdate(p)
			moved = true
		}
	}
	if moved {
		q.cond.Broadcast()
		q.changedLocked()
	}
	return wait
}

// kick tells Run that the back-off queue changed.
func (q *Queue) kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Close wakes every Pop with nil.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

func (q *Queue) profile(pod *corev1.Pod) *Profile { return q.cfg.Profiles[pod.Spec.SchedulerName] }

func (q *Queue) newQueued(pod *corev1.Pod) *framework.QueuedPodInfo {
	now := q.cfg.Clock.Now()
	return &framework.QueuedPodInfo{PodInfo: framework.NewPodInfo(pod), Timestamp: now}
}

// Add queues a new unscheduled pod.
func (q *Queue) Add(ctx context.Context, pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nominator.AddOrUpdate(pod)
	q.enqueueLocked(ctx, q.newQueued(pod))
	q.changedLocked()
}

// enqueueLocked runs the PreEnqueue plugins and puts the pod in the active queue
// or, if gated, among the unschedulable pods.
func (q *Queue) enqueueLocked(ctx context.Context, p *framework.QueuedPodInfo) {
	p.GatingPlugin = ""
	if prof := q.profile(p.Pod); prof != nil {
		for _, pl := range prof.PreEnqueue {
			if s := pl.PreEnqueue(ctx, p.Pod); !s.IsSuccess() {
				p.GatingPlugin = pl.Name()
				q.parkLocked(p)
				return
			}
		}
	}
	q.active.addOrUpdate(p)
	q.cond.Broadcast()
}

func (q *Queue) parkLocked(p *framework.QueuedPodInfo) {
	k := key(p)
	if old := q.unschedulable[k]; old != nil {
		q.unrejectLocked(old)
	}
	q.unschedulable[k] = p
	for pl := range p.UnschedulablePlugins {
		q.rejectedBy[pl]++
	}
	for pl := range p.PendingPlugins {
		q.rejectedBy[pl]++
	}
	if p.GatingPlugin != "" {
		q.rejectedBy[p.GatingPlugin]++
		q.gated++
	}
}

func (q *Queue) unparkLocked(k string) *framework.QueuedPodInfo {
	p := q.unschedulable[k]
	if p != nil {
		delete(q.unschedulable, k)
		q.unrejectLocked(p)
	}
	return p
}

func (q *Queue) unrejectLocked(p *framework.QueuedPodInfo) {
	dec := func(pl string) {
		if q.rejectedBy[pl]--; q.rejectedBy[pl] <= 0 {
			delete(q.rejectedBy, pl)
		}
	}
	for pl := range p.UnschedulablePlugins {
		dec(pl)
	}
	for pl := range p.PendingPlugins {
		dec(pl)
	}
	if p.GatingPlugin != "" {
		dec(p.GatingPlugin)
		q.gated--
	}
}

// Pop waits for the next pod to schedule; nil once the queue is closed.
func (q *Queue) Pop() *framework.QueuedPodInfo {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 && q.backoff.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	var p *framework.QueuedPodInfo
	if q.active.Len() > 0 {
		p = q.active.pop()
	} else {
		p = q.backoff.pop()
	}
	p.Attempts++
	if p.InitialAttemptTimestamp == nil {
		now := q.cfg.Clock.Now()
		p.InitialAttemptTimestamp = &now
	}
	q.schedulingCycle++
	q.inFlight[p.Pod.UID] = p.Pod
	q.changedLocked()
	return p
}

// SchedulingCycle is the number of pops so far.
func (q *Queue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.schedulingCycle
}

// Done says a popped pod's attempt is over (scheduled, or requeued).
func (q *Queue) Done(uid types.UID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, uid)
	delete(q.updated, uid)
}

// Len is the number of pods in all queues.
func (q *Queue) Len() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len() + q.errBackoff.Len(), len(q.unschedulable)
}

// PendingPods lists every queued pod, for debugging.
func (q *Queue) PendingPods() []*corev1.Pod {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*corev1.Pod
	for _, p := range q.active.items {
		out = append(out, p.Pod)
	}
	for _, p := range append(append([]*framework.QueuedPodInfo(nil), q.backoff.items...), q.errBackoff.items...) {
		out = append(out, p.Pod)
	}
	for _, p := range q.unschedulable {
		out = append(out, p.Pod)
	}
	return out
}

// backoffDuration is InitialBackoff doubled for each attempt after the first,
// at most MaxBackoff.
func (q *Queue) backoffDuration(p *framework.QueuedPodInfo) time.Duration {
	d := q.cfg.InitialBackoff
	for i := 1; i < p.Attempts; i++ {
		d *= 2
		if d >= q.cfg.MaxBackoff {
			return q.cfg.MaxBackoff
		}
	}
	return d
}

// AddUnschedulable requeues a pod whose attempt in cycle podCycle failed: to the
// back-off queue if the failure was an error or the cluster changed while it was
// in flight, else among the unschedulable pods until an event may help.
func (q *Queue) AddUnschedulable(ctx context.Context, p *framework.QueuedPodInfo, podCycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if newer, ok := q.updated[p.Pod.UID]; ok {
		p.PodInfo = framework.NewPodInfo(newer)
		delete(q.updated, p.Pod.UID)
		// The pod itself changed while in flight: retry after back-off.
		podCycle = -1
	}
	delete(q.inFlight, p.Pod.UID)
	k := key(p)
	if q.active.get(k) != nil || q.backoff.get(k) != nil || q.errBackoff.get(k) != nil || q.unschedulable[k] != nil {
		return
	}
	p.Timestamp = q.cfg.Clock.Now()
	rejected := len(p.UnschedulablePlugins)+len(p.PendingPlugins) > 0
	if p.ConsecutiveErrors > 0 || !rejected || q.moveRequestCycle >= podCycle {
		q.toBackoffLocked(p)
	} else {
		q.parkLocked(p)
	}
	q.changedLocked()
}

func (q *Queue) toBackoffLocked(p *framework.QueuedPodInfo) {
	p.BackoffExpiration = p.Timestamp.Add(q.backoffDuration(p))
	if !p.BackoffExpiration.After(q.cfg.Clock.Now()) {
		q.active.addOrUpdate(p)
		q.cond.Broadcast()
		return
	}
	q.addBackoffLocked(p)
}

// addBackoffLocked puts a pod in the back-off heap its failure calls for.
func (q *Queue) addBackoffLocked(p *framework.QueuedPodInfo) {
	if p.ConsecutiveErrors > 0 {
		q.errBackoff.addOrUpdate(p)
	} else {
		q.backoff.addOrUpdate(p)
		q.cond.Broadcast() // an idle Pop may take it now
	}
	q.kick()
}

// Update takes a new version of an unscheduled pod.
func (q *Queue) Update(ctx context.Context, oldPod, newPod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nominator.Update(oldPod, newPod)
	k := podKey(newPod.Namespace, newPod.Name)
	if _, ok := q.inFlight[newPod.UID]; ok {
		q.updated[newPod.UID] = newPod
		return
	}
	if p := q.active.get(k); p != nil {
		p.PodInfo = framework.NewPodInfo(newPod)
		q.active.addOrUpdate(p)
		return
	}
	for _, h := range []*podHeap{q.backoff, q.errBackoff} {
		if p := h.get(k); p != nil {
			p.PodInfo = framework.NewPodInfo(newPod)
			h.addOrUpdate(p)
			return
		}
	}
	if p := q.unschedulable[k]; p != nil {
		changed := oldPod == nil || specChanged(oldPod, newPod)
		p.PodInfo = framework.NewPodInfo(newPod)
		if p.Gated() || changed {
			// A gate may be gone, or the pod itself changed so that it may fit now.
			q.unparkLocked(k)
			if p.Gated() {
				q.enqueueLocked(ctx, p)
			} else {
				q.requeueLocked(p)
			}
			q.changedLocked()
		}
		return
	}
	// Not known (an update raced with the add): queue it.
	q.enqueueLocked(ctx, q.newQueued(newPod))
	q.changedLocked()
}

// requeueLocked sends a pod that may fit now to back-off or, if its back-off is
// over, to the active queue.
func (q *Queue) requeueLocked(p *framework.QueuedPodInfo) {
	p.UnschedulablePlugins, p.PendingPlugins = nil, nil
	if exp := p.Timestamp.Add(q.backoffDuration(p)); exp.After(q.cfg.Clock.Now()) {
		p.BackoffExpiration = exp
		q.addBackoffLocked(p)
		return
	}
	q.active.addOrUpdate(p)
	q.cond.Broadcast()
}

// specChanged says whether an update may change a scheduling decision: anything
// but status and bookkeeping metadata.
func specChanged(a, b *corev1.Pod) bool {
	return !equality.Semantic.DeepEqual(a.Labels, b.Labels) || !equality.Semantic.DeepEqual(&a.Spec, &b.Spec)
}

// Delete forgets a pod.
func (q *Queue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nominator.Delete(pod)
	k := podKey(pod.Namespace, pod.Name)
	q.active.remove(k)
	q.backoff.remove(k)
	q.errBackoff.remove(k)
	q.unparkLocked(k)
	q.changedLocked()
}

// MoveOnEvent moves the unschedulable pods an event may help — those rejected by
// a plugin that registered the event and whose hint says Queue — to back-off or
// the active queue.
func (q *Queue) MoveOnEvent(ctx context.Context, ev framework.ClusterEvent, oldObj, newObj interface{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveRequestCycle = q.schedulingCycle
	if len(q.unschedulable) == 0 || !q.anyRejecterListensLocked(ev) {
		return
	}
	moved := false
	for k, p := range q.unschedulable {
		if p.Gated() {
			continue
		}
		if !q.eventHelpsLocked(p, ev, oldObj, newObj) {
			continue
		}
		q.unparkLocked(k)
		q.requeueLocked(p)
		moved = true
	}
	if moved {
		q.changedLocked()
	}
}

// anyRejecterListensLocked is a quick check: does any plugin that rejected some
// pod register this event at all?
func (q *Queue) anyRejecterListensLocked(ev framework.ClusterEvent) bool {
	if ev.Resource == framework.WildCard {
		return true
	}
	for _, prof := range q.cfg.Profiles {
		for pl := range q.rejectedBy {
			for _, reg := range prof.Events[pl] {
				if reg.Event.Match(ev) {
					return true
				}
			}
		}
	}
	// Pods rejected without a plugin name (errors) are retried on any event.
	return q.rejectedBy[""] > 0
}

func (q *Queue) eventHelpsLocked(p *framework.QueuedPodInfo, ev framework.ClusterEvent, oldObj, newObj interface{}) bool {
	if ev.Resource == framework.WildCard {
		return true
	}
	prof := q.profile(p.Pod)
	if prof == nil {
		return false
	}
	rejecters := p.UnschedulablePlugins
	if len(p.PendingPlugins) > 0 {
		rejecters = rejecters.Union(p.PendingPlugins)
	}
	if len(rejecters) == 0 {
		return true
	}
	for pl := range rejecters {
		for _, reg := range prof.Events[pl] {
			if !reg.Event.Match(ev) {
				continue
			}
			if reg.QueueingHintFn == nil {
				return true
			}
			hint, err := reg.QueueingHintFn(p.Pod, oldObj, newObj)
			if err != nil || hint == framework.Queue {
				return true
			}
		}
	}
	return false
}

// Activate moves pods straight to the active queue (used when a pod they wait for
// is gone, e.g. preemption victims).
func (q *Queue) Activate(pods ...*corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, pod := range pods {
		k := podKey(pod.Namespace, pod.Name)
		p := q.unparkLocked(k)
		if p == nil {
			p = q.backoff.remove(k)
		}
		if p == nil {
			p = q.errBackoff.remove(k)
		}
		if p != nil {
			q.active.addOrUpdate(p)
			q.cond.Broadcast()
		}
	}
	q.changedLocked()
}

func (q *Queue) changedLocked() {
	if q.cfg.OnChange == nil {
		return
	}
	q.cfg.OnChange(q.active.Len(), q.backoff.Len()+q.errBackoff.Len(), len(q.unschedulable)-q.gated, q.gated)
}

// RejectedBy returns, for tests, the plugins that rejected the pod now parked.
func (q *Queue) RejectedBy(pod *corev1.Pod) sets.Set[string] {
	q.mu.Lock()
	defer q.mu.Unlock()
	if p := q.unschedulable[podKey(pod.Namespace, pod.Name)]; p != nil {
		return p.UnschedulablePlugins.Union(p.PendingPlugins)
	}
	return nil
}
