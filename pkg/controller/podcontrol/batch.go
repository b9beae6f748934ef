package podcontrol

import "sync"

// SlowStartInitialBatchSize is upstream's first batch.
const SlowStartInitialBatchSize = 1

// SlowStartBatch calls fn count times in batches that double in size (1, 2, 4,
// ...), the calls of one batch in parallel, and stops after the first batch with
// a failure: a controller whose pods are refused (quota, admission) learns it
// from one request, not hundreds. It returns the successes and the first error.
func SlowStartBatch(count, initial int, fn func() error) (int, error) {
	remaining, successes := count, 0
	for size := min(remaining, initial); size > 0; size = min(2*size, remaining) {
		errs := make(chan error, size)
		var wg sync.WaitGroup
		for i := 0; i < size; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		successes += size - len(errs)
		if len(errs) > 0 {
			return successes, <-errs
		}
		remaining -= size
	}
	return successes, nil
}
