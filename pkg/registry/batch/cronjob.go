package batch

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	// A static binary may run where the OS has no zoneinfo; timeZone names must
	// still resolve.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/workload"
)

// maxCronJobNameLength leaves room for the 11 characters a CronJob adds to the
// names of the jobs it creates.
const maxCronJobNameLength = 63 - 11

// CronJobs is batch/v1 cronjobs.
func CronJobs() *registry.Resource {
	return &registry.Resource{
		Group: "batch", Version: "v1", Name: "cronjobs", Kind: "CronJob", SingularName: "cronjob",
		ShortNames: []string{"cj"}, Categories: []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &batchv1.CronJob{} },
		NewList:   func() runtime.Object { return &batchv1.CronJobList{} },
		KeyPrefix: "cronjobs",
		Status:    true,
		Strategy: &registry.Generic{
			Defaults: defaultCronJob,
			Validation: func(obj runtime.Object) field.ErrorList {
				cj := obj.(*batchv1.CronJob)
				errs := validateCronJobSpec(&cj.Spec, nil)
				if len(cj.Name) > maxCronJobNameLength {
					errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
				}
				return errs
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateCronJobSpec(&obj.(*batchv1.CronJob).Spec, &old.(*batchv1.CronJob).Spec)
			},
		},
		Table: cronJobTable(),
	}
}

func defaultCronJob(obj runtime.Object) {
	cj := obj.(*batchv1.CronJob)
	s := &cj.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = boolPtr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = int32Ptr(3)
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = int32Ptr(1)
	}
	defaultJobTemplateParts(&s.JobTemplate.Spec)
}

// validateCronJobSpec checks a CronJob's spec; old is the stored spec on update.
func validateCronJobSpec(s, old *batchv1.CronJobSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if s.Schedule == "" {
		errs = append(errs, field.Required(fld.Child("schedule"), ""))
	} else {
		// TZ= in the schedule is refused, except on CronJobs stored with one.
		allowTZ := old != nil && strings.Contains(old.Schedule, "TZ")
		errs = append(errs, validateSchedule(s.Schedule, allowTZ, s.TimeZone, fld.Child("schedule"))...)
	}
	if s.StartingDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*s.StartingDeadlineSeconds, fld.Child("startingDeadlineSeconds"))...)
	}
	if old == nil || !sameString(old.TimeZone, s.TimeZone) {
		errs = append(errs, validateTimeZone(s.TimeZone, fld.Child("timeZone"))...)
	}
	cp := fld.Child("concurrencyPolicy")
	switch s.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	case "":
		errs = append(errs, field.Required(cp, ""))
	default:
		errs = append(errs, field.NotSupported(cp, s.ConcurrencyPolicy, []batchv1.ConcurrencyPolicy{
			batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	jf := fld.Child("jobTemplate")
	errs = append(errs, validateJobSpec(&s.JobTemplate.Spec, jf.Child("spec"))...)
	if s.JobTemplate.Spec.Selector != nil {
		errs = append(errs, field.Invalid(jf.Child("spec", "selector"), s.JobTemplate.Spec.Selector, "`selector` will be auto-generated"))
	}
	if m := s.JobTemplate.Spec.ManualSelector; m != nil && *m {
		errs = append(errs, field.NotSupported(jf.Child("spec", "manualSelector"), m, []string{"nil", "false"}))
	}
	if s.SuccessfulJobsHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.SuccessfulJobsHistoryLimit), fld.Child("successfulJobsHistoryLimit"))...)
	}
	if s.FailedJobsHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.FailedJobsHistoryLimit), fld.Child("failedJobsHistoryLimit"))...)
	}
	return errs
}

// ParseSchedule parses a CronJob schedule as upstream does: five fields or a
// descriptor such as @hourly, optionally prefixed with TZ= or CRON_TZ=.
func ParseSchedule(schedule string) (cron.Schedule, error) {
	return cron.ParseStandard(schedule)
}

func validateSchedule(schedule string, allowTZ bool, timeZone *string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, err := ParseSchedule(schedule); err != nil {
		errs = append(errs, field.Invalid(fld, schedule, err.Error()))
	}
	hasTZ := strings.Contains(schedule, "TZ")
	switch {
	case allowTZ && hasTZ && timeZone != nil:
		errs = append(errs, field.Invalid(fld, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
	case !allowTZ && hasTZ:
		errs = append(errs, field.Invalid(fld, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return errs
}

var timeZonePart = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

// validateTimeZone accepts an IANA zone name, checked part by part before it is
// loaded so that no path tricks reach the zone database.
func validateTimeZone(tz *string, fld *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(fld, tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !timeZonePart.MatchString(part) {
			return field.ErrorList{field.Invalid(fld, tz, fmt.Sprintf("unknown time zone %s", *tz))}
		}
	}
	var errs field.ErrorList
	if strings.EqualFold(*tz, "Local") {
		errs = append(errs, field.Invalid(fld, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		errs = append(errs, field.Invalid(fld, tz, err.Error()))
	}
	return errs
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func cronJobTable() *registry.Table {
	doc := batchv1.CronJobSpec{}.SwaggerDoc()
	status := batchv1.CronJobStatus{}.SwaggerDoc()
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Schedule", "string", doc["schedule"], 0),
			registry.Col("Timezone", "string", doc["timeZone"], 0),
			registry.Col("Suspend", "boolean", doc["suspend"], 0),
			registry.Col("Active", "integer", status["active"], 0),
			registry.Col("Last Schedule", "string", status["lastScheduleTime"], 0),
			registry.AgeColumn, workload.ContainersColumn, workload.ImagesColumn,
			registry.Col("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"], 1),
		},
		Cells: func(obj runtime.Object) []interface{} {
			cj := obj.(*batchv1.CronJob)
			last, tz, suspend := "<none>", "<none>", "<unset>"
			if cj.Status.LastScheduleTime != nil {
				last = registry.Age(*cj.Status.LastScheduleTime)
			}
			if cj.Spec.TimeZone != nil {
				tz = *cj.Spec.TimeZone
			}
			if cj.Spec.Suspend != nil {
				suspend = "False"
				if *cj.Spec.Suspend {
					suspend = "True"
				}
			}
			t := &cj.Spec.JobTemplate.Spec
			names, images := workload.ContainerCells(t.Template.Spec.Containers)
			return []interface{}{cj.Name, cj.Spec.Schedule, tz, suspend, int64(len(cj.Status.Active)), last,
				registry.Age(cj.CreationTimestamp), names, images, metav1.FormatLabelSelector(t.Selector)}
		},
	}
}
