package cronjob

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// t0 is a Monday, 10:00:30 UTC.
var t0 = time.Date(2025, 6, 2, 10, 0, 30, 0, time.UTC)

func cronJob(schedule string, created time.Time, last *time.Time) *batchv1.CronJob {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "ns", UID: "cj-uid", CreationTimestamp: metav1.NewTime(created)},
		Spec: batchv1.CronJobSpec{Schedule: schedule}}
	if last != nil {
		cj.Status.LastScheduleTime = &metav1.Time{Time: *last}
	}
	return cj
}

func parse(t *testing.T, cj *batchv1.CronJob) cron.Schedule {
	t.Helper()
	spec, _ := scheduleSpec(cj)
	s, err := cron.ParseStandard(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func at(h, m int) time.Time { return time.Date(2025, 6, 2, h, m, 0, 0, time.UTC) }

func TestMostRecentScheduleFindsTheLatestStartTimeAndCountsTheMissed(t *testing.T) {
	cases := []struct {
		name       string
		schedule   string
		created    time.Time
		last       *time.Time
		deadline   *int64
		now        time.Time
		wantLatest *time.Time
		wantMissed missed
		wantErr    bool
	}{
		{"created a moment ago: nothing due", "*/5 * * * *", at(10, 1), nil, nil, at(10, 2), nil, noneMissed, false},
		{"one start time since creation", "*/5 * * * *", at(9, 58), nil, nil, t0, ptr.To(at(10, 0)), noneMissed, false},
		{"last ran at 9:00, hourly, now 10:00:30: one due", "@hourly", at(8, 0), ptr.To(at(9, 0)), nil, t0, ptr.To(at(10, 0)), noneMissed, false},
		{"several missed: the latest is due", "*/1 * * * *", at(8, 0), ptr.To(at(9, 50)), nil, t0, ptr.To(at(10, 0)), fewMissed, false},
		{"more than a hundred missed", "*/1 * * * *", at(6, 0), ptr.To(at(7, 0)), nil, t0, ptr.To(at(10, 0)), manyMissed, false},
		{"a starting deadline looks only that far back", "*/1 * * * *", at(6, 0), ptr.To(at(7, 0)), ptr.To[int64](200), t0, ptr.To(at(10, 0)), fewMissed, false},
		{"start times older than the deadline are not due", "5 * * * *", at(6, 0), ptr.To(at(7, 5)), ptr.To[int64](60), t0, nil, noneMissed, false},
		{"irregular schedules are walked, not estimated", "30 6-16/4 * * 1-5", at(0, 0), ptr.To(at(6, 30)), nil, time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC),
			ptr.To(at(14, 30)), fewMissed, false},
		{"an impossible date is an error", "59 23 31 2 *", at(0, 0), nil, nil, t0, nil, noneMissed, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cj := cronJob(c.schedule, c.created, c.last)
			cj.Spec.StartingDeadlineSeconds = c.deadline
			_, latest, m, err := mostRecentSchedule(cj, c.now, parse(t, cj), true)
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v", err)
			}
			if (latest == nil) != (c.wantLatest == nil) || (latest != nil && !latest.Equal(*c.wantLatest)) {
				t.Errorf("latest %v, want %v", latest, c.wantLatest)
			}
			if m != c.wantMissed && !c.wantErr {
				t.Errorf("missed %d, want %d", m, c.wantMissed)
			}
		})
	}
}

func TestNextScheduleDelayWaitsForTheNextStartTimeWithSlack(t *testing.T) {
	cases := []struct {
		name     string
		schedule string
		last     *time.Time
		now      time.Time
		want     time.Duration
	}{
		{"every minute, 30s past: 30s", "*/1 * * * *", ptr.To(at(10, 0)), t0, 30*time.Second + nextScheduleSlack},
		{"hourly just run: almost an hour", "@hourly", ptr.To(at(10, 0)), t0, 59*time.Minute + 30*time.Second + nextScheduleSlack},
		{"missed ones are not waited for: the next from now", "*/5 * * * *", ptr.To(at(9, 0)), t0, 4*time.Minute + 30*time.Second + nextScheduleSlack},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cj := cronJob(c.schedule, at(8, 0), c.last)
			if got := nextScheduleDelay(cj, c.now, parse(t, cj)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestDueScheduleReportsTooManyMissed(t *testing.T) {
	cj := cronJob("*/1 * * * *", at(0, 0), ptr.To(at(1, 0)))
	due, tooMany, err := dueSchedule(cj, t0, parse(t, cj))
	if err != nil || due == nil || !due.Equal(at(10, 0)) || !tooMany {
		t.Errorf("due %v, tooMany %v, %v", due, tooMany, err)
	}
	cj = cronJob("*/1 * * * *", at(0, 0), ptr.To(at(10, 0)))
	if due, _, _ := dueSchedule(cj, t0, parse(t, cj)); due != nil {
		t.Errorf("the start time just run is due again: %v", due)
	}
}

func TestTheTimeZoneShiftsTheSchedule(t *testing.T) {
	cj := cronJob("0 12 * * *", at(0, 0), nil)
	cj.Spec.TimeZone = ptr.To("Europe/Paris") // UTC+2 in June: noon there is 10:00 UTC
	if spec, own := scheduleSpec(cj); spec != "TZ=Europe/Paris 0 12 * * *" || own {
		t.Fatalf("spec %q", spec)
	}
	_, latest, _, err := mostRecentSchedule(cj, t0, parse(t, cj), false)
	if err != nil || latest == nil || !latest.Equal(at(10, 0)) {
		t.Errorf("latest %v, %v", latest, err)
	}
	cj.Spec.TimeZone = nil
	cj.Spec.Schedule = "CRON_TZ=Asia/Tokyo 0 19 * * *"
	if _, own := scheduleSpec(cj); !own {
		t.Error("a TZ in the schedule is not reported")
	}
	if _, latest, _, _ := mostRecentSchedule(cj, t0, parse(t, cj), false); latest == nil || !latest.Equal(at(10, 0)) {
		t.Errorf("CRON_TZ: %v", latest)
	}
}

func TestJobsAreNamedByTheirStartMinuteAndAnnotatedInTheZone(t *testing.T) {
	cj := cronJob("0 12 * * *", at(0, 0), nil)
	cj.Spec.TimeZone = ptr.To("Europe/Paris")
	cj.Spec.JobTemplate = batchv1.JobTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"c": "d"}},
		Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](2)}}
	j, err := jobFor(cj, at(10, 0))
	if err != nil {
		t.Fatal(err)
	}
	if j.Name != "tick-29147640" || j.Labels["a"] != "b" || j.Annotations["c"] != "d" || *j.Spec.BackoffLimit != 2 {
		t.Errorf("job %s labels %v annotations %v", j.Name, j.Labels, j.Annotations)
	}
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2025-06-02T12:00:00+02:00" {
		t.Errorf("scheduled timestamp %q", got)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.Kind != "CronJob" || ref.UID != "cj-uid" || !*ref.BlockOwnerDeletion {
		t.Errorf("owner %+v", j.OwnerReferences)
	}
	if cj.Spec.JobTemplate.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "" {
		t.Error("the template was changed")
	}
}

func TestHistoryKeepsTheNewestJobs(t *testing.T) {
	job := func(name string, start *time.Time) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if start != nil {
			j.Status.StartTime = &metav1.Time{Time: *start}
		}
		return j
	}
	jobs := []*batchv1.Job{job("c", ptr.To(at(3, 0))), job("never", nil), job("a", ptr.To(at(1, 0))), job("b2", ptr.To(at(2, 0))), job("b1", ptr.To(at(2, 0)))}
	got := beyondHistory(jobs, 2)
	var names []string
	for _, j := range got {
		names = append(names, j.Name)
	}
	if len(names) != 3 || names[0] != "a" || names[1] != "b1" || names[2] != "b2" {
		t.Errorf("deleted %v", names)
	}
	if beyondHistory(jobs, 5) != nil || len(beyondHistory(jobs, 0)) != 5 {
		t.Error("limits 5 and 0")
	}
}
