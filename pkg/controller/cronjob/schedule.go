package cronjob

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// nextScheduleSlack is added to every wait for the next schedule, so a clock
// a little behind the API server's still finds the schedule due.
const nextScheduleSlack = 100 * time.Millisecond

// tooManyMissed is where upstream stops catching up: more missed start times
// than this means a wrong clock or a long outage, and earns a warning.
const tooManyMissed = 100

// scheduleSpec is the schedule as the cron parser reads it: with the
// CronJob's timeZone as a TZ= prefix (when it names a known zone), or as
// written when the schedule brings its own TZ= or CRON_TZ=.
func scheduleSpec(cj *batchv1.CronJob) (spec string, ownTZ bool) {
	if strings.Contains(cj.Spec.Schedule, "TZ") {
		return cj.Spec.Schedule, true
	}
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err == nil {
			return "TZ=" + *tz + " " + cj.Spec.Schedule, false
		}
	}
	return cj.Spec.Schedule, false
}

// missed says how many start times went by unstarted.
type missed int

const (
	noneMissed missed = iota
	fewMissed
	manyMissed
)

// mostRecentSchedule looks at the start times after the last one the
// CronJob ran (or its creation), up to now. It returns where it started
// looking, the latest start time not after now (nil if none), and how many
// were missed. With deadline, times older than startingDeadlineSeconds are
// not looked at. A schedule whose times cannot be told apart (Feb 31st) is an
// error.
func mostRecentSchedule(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, deadline bool) (time.Time, *time.Time, missed, error) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if deadline && cj.Spec.StartingDeadlineSeconds != nil {
		if d := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second); d.After(earliest) {
			earliest = d
		}
	}
	t1 := sched.Next(earliest)
	t2 := sched.Next(t1)
	if now.Before(t1) {
		return earliest, nil, noneMissed, nil
	}
	if now.Before(t2) {
		return earliest, &t1, noneMissed, nil
	}
	period := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if period < 1 {
		return earliest, nil, noneMissed, errors.New("time difference between two schedules is less than 1 second")
	}
	// Estimate how many fit since t1 from the first period, then walk the
	// last stretch with the parser, which knows irregular schedules.
	count := int64(now.Sub(t1).Seconds())/period + 1
	m := fewMissed
	if count > tooManyMissed {
		m = manyMissed
	}
	var latest time.Time
	from := t1.Add(time.Duration((count-2)*period) * time.Second)
	for t := sched.Next(from); !t.After(now); t = sched.Next(t) {
		latest = t
	}
	if latest.IsZero() {
		return earliest, nil, m, nil
	}
	return earliest, &latest, m, nil
}

// nextScheduleDelay is how long until the CronJob's next start time after
// the ones already due, plus the slack.
func nextScheduleDelay(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) time.Duration {
	earliest, latest, m, err := mostRecentSchedule(cj, now, sched, false)
	from := now
	switch {
	case err != nil:
	case latest != nil:
		from = *latest
	case m == noneMissed:
		from = earliest
	}
	return sched.Next(from).Add(nextScheduleSlack).Sub(now)
}

// dueSchedule is the start time to run now, if any, and whether so many were
// missed that the user should hear of it.
func dueSchedule(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (*time.Time, bool, error) {
	_, latest, m, err := mostRecentSchedule(cj, now, sched, true)
	if latest == nil || latest.After(now) {
		return nil, false, err
	}
	return latest, m == manyMissed, err
}

// jobName is the name of the job for a start time: the CronJob's name and
// the time in minutes since the epoch, so one start time makes one job.
func jobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return cj.Name + "-" + strconv.FormatInt(scheduled.Unix()/60, 10)
}
