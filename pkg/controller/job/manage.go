package job

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/kubectl/pkg/util/podutils"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
)

// manage creates or deletes pods so that the job runs as many as it should,
// and returns how many are active afterwards. A sync either deletes or
// creates, never both; deleting comes first.
func (c *Controller) manage(ctx context.Context, st *state, now time.Time) (int32, error) {
	job := st.job
	active := int32(len(st.active))
	if isSuspended(job) {
		return c.removePods(ctx, st, podsToRemove(job, st.active, len(st.active)), active)
	}
	want := wantActive(job, st.succeeded, active)
	victims := podsToRemove(job, st.active, int(max(active-want, 0)))
	if len(victims) > MaxPodsPerSync {
		victims = victims[:MaxPodsPerSync]
	}
	if len(victims) > 0 {
		return c.removePods(ctx, st, victims, active)
	}
	// Pods still terminating hold their place when only failures are replaced.
	var terminating int32
	if onlyReplaceFailed(job) {
		terminating = st.terminating
	}
	missing := want - terminating - active
	if missing <= 0 {
		return active, nil
	}
	if !hasBackoffLimitPerIndex(job) {
		if wait := remainingBackoff(st.backoff.failures, st.backoff.lastFailure, now, c.cfg.PodFailureBackoff, c.cfg.MaxPodFailureBackoff); wait > 0 {
			st.wakeAfter(max(wait, c.cfg.BatchPeriod))
			return active, nil
		}
	}
	missing = min(missing, MaxPodsPerSync)
	indexes := []int(nil)
	if isIndexed(job) {
		indexes = pendingIndexes(takenIndexes(st), int(missing), int(*job.Spec.Completions))
		if hasBackoffLimitPerIndex(job) {
			var wait time.Duration
			if indexes, wait = c.indexesDue(indexes, st.delayed, now); len(indexes) == 0 {
				st.wakeAfter(max(wait, c.cfg.BatchPeriod))
				return active, nil
			}
		}
		missing = int32(len(indexes))
	}
	created, err := c.createPods(ctx, st, int(missing), indexes)
	return active + int32(created), err
}

// takenIndexes are the indexes that need no new pod: succeeded, held by an
// active pod (or a terminating one when only failures are replaced), failed.
func takenIndexes(st *state) indexSet {
	taken := st.succeededIdx.with(indexesOf(st.active)...)
	if onlyReplaceFailed(st.job) {
		var terminating []*corev1.Pod
		for _, p := range st.pods {
			if isTerminating(p) {
				terminating = append(terminating, p)
			}
		}
		taken = taken.with(indexesOf(terminating)...)
	}
	if st.failedIdx != nil {
		taken = taken.union(*st.failedIdx)
	}
	return taken
}

// indexesDue keeps the indexes whose per-index back-off has passed; if none
// has, it returns the shortest wait.
func (c *Controller) indexesDue(indexes []int, delayed map[int]*corev1.Pod, now time.Time) ([]int, time.Duration) {
	var due []int
	var wait time.Duration
	for _, ix := range indexes {
		d := indexBackoff(delayed[ix], now, c.cfg.PodFailureBackoff, c.cfg.MaxPodFailureBackoff)
		if d == 0 {
			due = append(due, ix)
		} else if wait == 0 || d < wait {
			wait = d
		}
	}
	return due, wait
}

// createPods creates n pods (for the given indexes, if any) in slow-start
// batches and reports how many were created.
func (c *Controller) createPods(ctx context.Context, st *state, n int, indexes []int) (int, error) {
	job := st.job
	c.exp.ExpectCreations(st.key, n)
	template := podTemplate(job)
	ref := controllerref.Ref(job, jobKind)
	var next atomic.Int32
	created, err := podcontrol.SlowStartBatch(n, podcontrol.SlowStartInitialBatchSize, func() error {
		ix := noIndex
		if indexes != nil {
			ix = indexes[next.Add(1)-1]
		}
		_, err := c.control.CreatePod(ctx, job.Namespace, newPod(job, template, &ref, ix, st.delayed[ix]), job)
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil // the namespace goes, and the job with it
		}
		return err
	})
	// Creations refused or never tried will not be observed.
	for i := created; i < n; i++ {
		c.exp.CreationObserved(st.key)
	}
	return created, err
}

// removePods deletes victims on a job's own initiative (too many pods, a
// suspended job): their finalizer goes first, so they count as neither
// succeeded nor failed.
func (c *Controller) removePods(ctx context.Context, st *state, victims []*corev1.Pod, active int32) (int32, error) {
	keys := make([]string, len(victims))
	for i, p := range victims {
		keys[i] = podcontrol.Key(p)
	}
	c.exp.ExpectDeletions(st.key, keys)
	var ready, removed atomic.Int32
	errs := make(chan error, len(victims))
	var wg sync.WaitGroup
	for _, p := range victims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.removeFinalizer(ctx, p)
			if err == nil {
				err = c.control.Delete(ctx, p, st.job)
			}
			if err != nil {
				// This deletion will never be observed.
				c.exp.DeletionObserved(st.key, podcontrol.Key(p))
				if !apierrors.IsNotFound(err) {
					errs <- err
					return
				}
			}
			removed.Add(1)
			if podutils.IsPodReady(p) {
				ready.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	st.terminating += removed.Load()
	st.ready -= ready.Load()
	return active - removed.Load(), firstError(errs)
}

// deleteActive deletes the active pods of a job that is finishing, keeping
// their finalizers: they are counted as failed once gone. It returns how many
// ready and how many pods in all were deleted.
func (c *Controller) deleteActive(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod) (int32, int32, error) {
	var ready, deleted atomic.Int32
	errs := make(chan error, len(pods))
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.control.Delete(ctx, p, job); err != nil && !apierrors.IsNotFound(err) {
				errs <- err
				return
			}
			deleted.Add(1)
			if podutils.IsPodReady(p) {
				ready.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return ready.Load(), deleted.Load(), firstError(errs)
}

func firstError(errs <-chan error) error {
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) == 0 {
		return nil
	}
	return errors.Join(all...)
}
