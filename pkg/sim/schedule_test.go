package sim

import (
	"fmt"
	"testing"
	"time"
)

func TestBeatDue(t *testing.T) {
	base := time.Unix(1_000_000, 0) // a multiple of 10s
	period, phase := 10*time.Second, 3*time.Second
	cases := []struct {
		name      string
		last, now time.Time
		precision time.Duration
		due       bool
		next      time.Time
	}{
		{"a node that never beat beats at once", time.Time{}, base.Add(5 * time.Second), time.Microsecond, true, base.Add(13 * time.Second)},
		{"a beat after the last boundary is enough", base.Add(4 * time.Second), base.Add(9 * time.Second), time.Microsecond, false, base.Add(13 * time.Second)},
		{"a beat before the last boundary is due again", base.Add(2 * time.Second), base.Add(4 * time.Second), time.Microsecond, true, base.Add(13 * time.Second)},
		{"exactly at the boundary the slot has begun", base.Add(2 * time.Second), base.Add(3 * time.Second), time.Microsecond, true, base.Add(13 * time.Second)},
		{"a beat read back at second precision still counts for its slot", base.Add(3 * time.Second), base.Add(3*time.Second + 400*time.Millisecond), time.Second, false, base.Add(13 * time.Second)},
		{"at second precision a beat from the second before the boundary is due", base.Add(2 * time.Second), base.Add(3*time.Second + 400*time.Millisecond), time.Second, true, base.Add(13 * time.Second)},
	}
	for _, c := range cases {
		due, next := beatDue(c.last, c.now, period, phase, c.precision)
		if due != c.due || !next.Equal(c.next) {
			t.Errorf("%s: got %v %s, want %v %s", c.name, due, next.Sub(base), c.due, c.next.Sub(base))
		}
	}
}

func TestSlotStartIsNeverAfterNowNorAPeriodBefore(t *testing.T) {
	period := 10 * time.Second
	for i := 0; i < 1000; i++ {
		now := time.Unix(0, int64(i)*7_777_777_7)
		phase := time.Duration(i*13) * time.Millisecond % period
		s := slotStart(now, period, phase)
		if s.After(now) || now.Sub(s) >= period || (s.UnixNano()-int64(phase))%int64(period) != 0 {
			t.Fatalf("now %s phase %s: slot starts at %s", now, phase, s)
		}
	}
}

// Thousands of nodes named sim-0 .. sim-4999 spread their heartbeats evenly over
// the period: no tenth of it holds more than 1.3 times its share.
func TestPhasesOfManyNodesSpreadOverThePeriod(t *testing.T) {
	period := 10 * time.Second
	buckets := make([]int, 10)
	const n = 5000
	for i := 0; i < n; i++ {
		p := phaseOf(fmt.Sprintf("sim-%d", i), period)
		if p < 0 || p >= period {
			t.Fatalf("phase %s outside the period", p)
		}
		buckets[p/(period/10)]++
	}
	for i, b := range buckets {
		if b > n/10*13/10 {
			t.Errorf("tenth %d of the period holds %d of %d nodes: %v", i, b, n, buckets)
		}
	}
	if phaseOf("sim-1", period) != phaseOf("sim-1", period) {
		t.Error("a node's phase changes between calls")
	}
}
