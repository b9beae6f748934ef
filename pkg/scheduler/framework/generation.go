package framework

import "sync/atomic"

var generation atomic.Int64

// nextGeneration is a process-wide counter: a node info's generation tells a
// snapshot whether it has the latest copy.
func nextGeneration() int64 { return generation.Add(1) }
