package sim

import (
	"hash/fnv"
	"time"
)

// Heartbeats of thousands of nodes are spread over each period rather than sent
// together: every node has a phase within the period, from a hash of its name, and
// beats once per slot, at period boundaries shifted by its phase. A node created
// in the middle of a slot beats at once and then at its next slot, so a heartbeat
// is never older than one period.

// phaseOf is the node's offset within period.
func phaseOf(name string, period time.Duration) time.Duration {
	if period <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(period))
}

// slotStart is the latest slot boundary at or before now.
func slotStart(now time.Time, period, phase time.Duration) time.Time {
	if period <= 0 {
		return now
	}
	off := (now.UnixNano() - int64(phase)) % int64(period)
	if off < 0 {
		off += int64(period)
	}
	return now.Add(-time.Duration(off))
}

// beatDue tells whether a heartbeat last sent at last is due now, and when the next
// one is: at the boundary after now. The API keeps times to a precision (seconds
// for conditions, microseconds for leases): a beat sent just after a boundary may
// read back as just before it, and must still count.
func beatDue(last, now time.Time, period, phase, precision time.Duration) (due bool, next time.Time) {
	start := slotStart(now, period, phase)
	return last.IsZero() || last.Before(start.Truncate(precision)), start.Add(period)
}
