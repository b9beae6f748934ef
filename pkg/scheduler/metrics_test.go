package scheduler

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestASchedulerMadeAgainFeedsTheSeriesOfTheFirst(t *testing.T) {
	reg := prometheus.NewRegistry()
	first := newMetrics(reg)
	first.attempt("scheduled", "default-scheduler", 0.01)
	again := newMetrics(reg)
	again.attempt("scheduled", "default-scheduler", 0.01)
	again.setPending(3, 0, 0, 0)
	if n := testutil.ToFloat64(first.attempts.WithLabelValues("scheduled", "default-scheduler")); n != 2 {
		t.Errorf("schedule_attempts_total = %v, want 2 (both schedulers counted in one series)", n)
	}
	if n := testutil.ToFloat64(first.active); n != 3 {
		t.Errorf("pending_pods{queue=active} = %v, want 3", n)
	}
}
