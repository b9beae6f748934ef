package job

import (
	"sort"
	"strconv"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Upstream's delays before a failed pod is replaced: 10s, doubling with each
// failure since the last success, capped at ten minutes (the code's cap; the
// docs still say six).
const (
	DefaultPodFailureBackoff = 10 * time.Second
	MaxPodFailureBackoff     = 10 * time.Minute
)

// backoffRecord is what a job's pod back-off depends on: how many pods failed
// since the last success, and when the last of them did.
type backoffRecord struct {
	failures    int32
	lastFailure *time.Time
}

// nextBackoffRecord adds the pods that finished since prev was recorded. A
// success resets the count; failures after the last success still count.
func nextBackoffRecord(prev backoffRecord, succeeded, failed []*corev1.Pod) backoffRecord {
	if len(failed) == 0 {
		if len(succeeded) > 0 {
			return backoffRecord{}
		}
		return prev
	}
	failedAt := finishTimes(failed)
	if len(succeeded) == 0 {
		last := failedAt[len(failedAt)-1]
		return backoffRecord{failures: prev.failures + int32(len(failed)), lastFailure: &last}
	}
	succeededAt := finishTimes(succeeded)
	lastSuccess := succeededAt[len(succeededAt)-1]
	var rec backoffRecord
	for i := len(failedAt) - 1; i >= 0 && failedAt[i].After(lastSuccess); i-- {
		if rec.lastFailure == nil {
			t := failedAt[i]
			rec.lastFailure = &t
		}
		rec.failures++
	}
	return rec
}

func finishTimes(pods []*corev1.Pod) []time.Time {
	out := make([]time.Time, len(pods))
	for i, p := range pods {
		out[i] = podFinishTime(p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// podFinishTime is when a pod finished, as well as it can be told: the last
// container's finish (sidecars included), else when it stopped being ready,
// else when its deletion began (minus the grace period), else its creation.
func podFinishTime(p *corev1.Pod) time.Time {
	if t, ok := containersFinishTime(p); ok {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		grace := int64(0)
		if p.DeletionGracePeriodSeconds != nil {
			grace = *p.DeletionGracePeriodSeconds
		}
		return p.DeletionTimestamp.Add(-time.Duration(grace) * time.Second)
	}
	return p.CreationTimestamp.Time
}

// containersFinishTime is the latest finish of the pod's containers and
// sidecars, if every one of them has finished.
func containersFinishTime(p *corev1.Pod) (time.Time, bool) {
	sidecars := sets.New[string]()
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Insert(c.Name)
		}
	}
	statuses := append([]corev1.ContainerStatus(nil), p.Status.ContainerStatuses...)
	for _, s := range p.Status.InitContainerStatuses {
		if sidecars.Has(s.Name) {
			statuses = append(statuses, s)
		}
	}
	var latest time.Time
	for _, s := range statuses {
		if s.State.Terminated == nil || s.State.Terminated.FinishedAt.IsZero() {
			return time.Time{}, false
		}
		if t := s.State.Terminated.FinishedAt.Time; t.After(latest) {
			latest = t
		}
	}
	return latest, len(statuses) > 0
}

// backoffDelay is the wait after failures failed pods in a row.
func backoffDelay(failures int32, base, ceiling time.Duration) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := base
	for i := int32(1); i < failures && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// remainingBackoff is how long pod creation must still wait at now.
func remainingBackoff(failures int32, lastFailure *time.Time, now time.Time, base, ceiling time.Duration) time.Duration {
	if failures <= 0 || lastFailure == nil {
		return 0
	}
	return max(backoffDelay(failures, base, ceiling)-now.Sub(*lastFailure), 0)
}

// backoffStore keeps each job's record between syncs (it is not in the
// job's status, as upstream keeps it in memory too).
type backoffStore struct {
	mu      sync.Mutex
	records map[string]backoffRecord
}

func newBackoffStore() *backoffStore { return &backoffStore{records: map[string]backoffRecord{}} }

func (s *backoffStore) get(key string) backoffRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[key]
}

func (s *backoffStore) set(key string, r backoffRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[key] = r
}

func (s *backoffStore) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key)
}

// indexFailureCounts reads the per-index failure annotations of a pod (bad
// values count as zero, as a user may have written them).
func indexFailureCounts(p *corev1.Pod) (counted, ignored int32) {
	return annotationCount(p, batchv1.JobIndexFailureCountAnnotation), annotationCount(p, batchv1.JobIndexIgnoredFailureCountAnnotation)
}

func annotationCount(p *corev1.Pod, key string) int32 {
	v, err := strconv.ParseInt(p.Annotations[key], 10, 32)
	if err != nil || v < 0 {
		return 0
	}
	return int32(v)
}

// indexBackoff is how long the index of lastFailed must wait before its
// replacement: the back-off of all failures of the index so far.
func indexBackoff(lastFailed *corev1.Pod, now time.Time, base, ceiling time.Duration) time.Duration {
	if lastFailed == nil {
		return 0
	}
	counted, ignored := indexFailureCounts(lastFailed)
	at := podFinishTime(lastFailed)
	return remainingBackoff(counted+ignored+1, &at, now, base, ceiling)
}
