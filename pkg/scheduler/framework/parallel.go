package framework

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallelizer spreads work over a fixed number of goroutines.
type Parallelizer struct {
	workers int
}

// NewParallelizer makes a parallelizer with n workers (at least 1), and no more
// than the processors Go runs on: more goroutines than those only take turns,
// and each costs a wake-up and a handover per cycle.
func NewParallelizer(n int) Parallelizer {
	n = min(n, runtime.GOMAXPROCS(0))
	if n < 1 {
		n = 1
	}
	return Parallelizer{workers: n}
}

// minPiecesPerWorker keeps small jobs on the calling goroutine: below it, starting
// goroutines costs more than the work.
const minPiecesPerWorker = 64

// Until calls f for each piece in [0, pieces) until all are done or ctx ends. f must
// be safe to call concurrently.
func (p Parallelizer) Until(ctx context.Context, pieces int, f func(i int)) {
	workers := p.workers
	if max := pieces / minPiecesPerWorker; max < workers {
		workers = max
	}
	if workers <= 1 {
		for i := 0; i < pieces; i++ {
			if ctx.Err() != nil {
				return
			}
			f(i)
		}
		return
	}
	var next atomic.Int64
	const chunk = 16
	var wg sync.WaitGroup
	work := func() {
		defer wg.Done()
		for ctx.Err() == nil {
			start := int(next.Add(chunk)) - chunk
			if start >= pieces {
				return
			}
			end := start + chunk
			if end > pieces {
				end = pieces
			}
			for i := start; i < end; i++ {
				f(i)
			}
		}
	}
	wg.Add(workers)
	for w := 1; w < workers; w++ {
		go work()
	}
	work()
	wg.Wait()
}
