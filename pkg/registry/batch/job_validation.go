package batch

import (
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry/badvalue"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Limits upstream puts on job specs.
const (
	maxParallelismForIndexedJob         = 100000
	maxFailedIndexesForIndexedJob       = 100000
	completionsSoftLimit                = 100000
	parallelismLimitForHighCompletions  = 10000
	maxFailedIndexesForHighCompletions  = 10000
	maxPodFailurePolicyRules            = 20
	maxPodFailurePolicyOnExitCodeValues = 255
	maxPodFailurePolicyOnPodConditions  = 20
	maxManagedByLength                  = 63
	maxSucceededIndexesLength           = 64 * 1024
	maxSuccessPolicyRules               = 20
)

var (
	podFailurePolicyActions = []batchv1.PodFailurePolicyAction{batchv1.PodFailurePolicyActionCount,
		batchv1.PodFailurePolicyActionFailIndex, batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore}
	exitCodeOperators = []batchv1.PodFailurePolicyOnExitCodesOperator{batchv1.PodFailurePolicyOnExitCodesOpIn,
		batchv1.PodFailurePolicyOnExitCodesOpNotIn}
	conditionStatuses = []corev1.ConditionStatus{corev1.ConditionFalse, corev1.ConditionTrue, corev1.ConditionUnknown}
)

// validateJob checks a job; prefixedLabels requires the batch.kubernetes.io/
// labels of a generated selector (jobs created before they existed lack them).
func validateJob(j *batchv1.Job, prefixedLabels bool) field.ErrorList {
	errs := validateGeneratedSelector(j, prefixedLabels)
	errs = append(errs, validateJobSpecWithSelector(&j.Spec, field.NewPath("spec"))...)
	if s := &j.Spec; s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion && s.Completions != nil && *s.Completions > 0 {
		host := fmt.Sprintf("%s-%d", j.Name, *s.Completions-1)
		if len(validation.IsDNS1123Label(host)) > 0 {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), j.Name,
				fmt.Sprintf("will not able to create pod with invalid DNS label: %s", host)))
		}
	}
	return errs
}

// validateGeneratedSelector checks that a server-chosen selector is intact.
func validateGeneratedSelector(j *batchv1.Job, prefixedLabels bool) field.ErrorList {
	if (j.Spec.ManualSelector != nil && *j.Spec.ManualSelector) || j.Spec.Selector == nil {
		return nil
	}
	var errs field.ErrorList
	if j.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	meta := field.NewPath("spec", "template", "metadata")
	want := map[string]string{legacyControllerUIDLabel: string(j.UID), legacyJobNameLabel: j.Name}
	keys := []string{legacyControllerUIDLabel, legacyJobNameLabel}
	if prefixedLabels {
		want[batchv1.ControllerUidLabel], want[batchv1.JobNameLabel] = string(j.UID), j.Name
		keys = append(keys, batchv1.ControllerUidLabel, batchv1.JobNameLabel)
	}
	for _, k := range keys {
		errs = append(errs, hasLabel(j.Spec.Template.Labels, meta, k, want[k])...)
	}
	if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Matches(labels.Set(want)) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

func hasLabel(l map[string]string, fld *field.Path, key, value string) field.ErrorList {
	got, ok := l[key]
	if !ok {
		return field.ErrorList{field.Required(fld.Child("labels").Key(key), fmt.Sprintf("must be '%s'", value))}
	}
	if got != value {
		return field.ErrorList{field.Invalid(fld.Child("labels").Key(key), got, fmt.Sprintf("must be '%s'", value))}
	}
	return nil
}

// validateJobSpecWithSelector checks a job's spec including its selector.
func validateJobSpecWithSelector(s *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	errs := validateJobSpec(s, fld)
	if s.Selector == nil {
		errs = append(errs, field.Required(fld.Child("selector"), ""))
	} else {
		errs = append(errs, metavalidation.ValidateLabelSelector(s.Selector, metavalidation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
	}
	if sel, err := metav1.LabelSelectorAsSelector(s.Selector); err == nil && !sel.Matches(labels.Set(s.Template.Labels)) {
		errs = append(errs, field.Invalid(fld.Child("template", "metadata", "labels"), s.Template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// validateJobSpec checks what a job spec and a CronJob's job template share.
func validateJobSpec(s *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	nonNegative := func(name string, v *int32) {
		if v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*v), fld.Child(name))...)
		}
	}
	nonNegative("parallelism", s.Parallelism)
	nonNegative("completions", s.Completions)
	if s.ActiveDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*s.ActiveDeadlineSeconds, fld.Child("activeDeadlineSeconds"))...)
	}
	nonNegative("backoffLimit", s.BackoffLimit)
	nonNegative("ttlSecondsAfterFinished", s.TTLSecondsAfterFinished)
	nonNegative("backoffLimitPerIndex", s.BackoffLimitPerIndex)
	nonNegative("maxFailedIndexes", s.MaxFailedIndexes)
	if s.MaxFailedIndexes != nil && s.BackoffLimitPerIndex == nil {
		errs = append(errs, field.Required(fld.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	if s.ManagedBy != nil {
		errs = append(errs, validation.IsDomainPrefixedPath(fld.Child("managedBy"), *s.ManagedBy)...)
		if len(*s.ManagedBy) > maxManagedByLength {
			errs = append(errs, field.TooLong(fld.Child("managedBy"), "", maxManagedByLength))
		}
	}
	errs = append(errs, validateCompletionMode(s, fld)...)
	if s.PodFailurePolicy != nil {
		errs = append(errs, validatePodFailurePolicy(s, fld.Child("podFailurePolicy"))...)
	}
	if s.SuccessPolicy != nil {
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
			errs = append(errs, field.Invalid(fld.Child("successPolicy"), badvalue.Internal(*s.SuccessPolicy), "requires indexed completion mode"))
		} else {
			errs = append(errs, validateSuccessPolicy(s, fld.Child("successPolicy"))...)
		}
	}
	if p := s.PodReplacementPolicy; p != nil {
		pf := fld.Child("podReplacementPolicy")
		if s.PodFailurePolicy != nil {
			if *p != batchv1.Failed {
				errs = append(errs, field.NotSupported(pf, *p, []batchv1.PodReplacementPolicy{batchv1.Failed}))
			}
		} else if *p != batchv1.Failed && *p != batchv1.TerminatingOrFailed {
			errs = append(errs, field.NotSupported(pf, *p, []batchv1.PodReplacementPolicy{batchv1.Failed, batchv1.TerminatingOrFailed}))
		}
	}
	errs = append(errs, podspec.ValidatePodTemplateSpec(&s.Template, fld.Child("template"))...)
	rp := s.Template.Spec.RestartPolicy
	rf := fld.Child("template", "spec", "restartPolicy")
	switch {
	case rp == corev1.RestartPolicyAlways || rp == "":
		errs = append(errs, field.Required(rf, fmt.Sprintf("valid values: %q, %q", corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)))
	case rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever:
		errs = append(errs, field.NotSupported(rf, rp, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	case s.PodFailurePolicy != nil && rp != corev1.RestartPolicyNever:
		errs = append(errs, field.Invalid(rf, rp, fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever)))
	}
	return errs
}

func validateCompletionMode(s *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	if m := s.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		errs = append(errs, field.NotSupported(fld.Child("completionMode"), m, []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
	}
	if indexed {
		if s.Completions == nil {
			errs = append(errs, field.Required(fld.Child("completions"), "when completion mode is Indexed"))
		}
		if s.Parallelism != nil && *s.Parallelism > maxParallelismForIndexedJob {
			errs = append(errs, field.Invalid(fld.Child("parallelism"), *s.Parallelism,
				fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxParallelismForIndexedJob)))
		}
		if s.Completions != nil && s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > *s.Completions {
			errs = append(errs, field.Invalid(fld.Child("maxFailedIndexes"), *s.MaxFailedIndexes, "must be less than or equal to completions"))
		}
		if s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > maxFailedIndexesForIndexedJob {
			errs = append(errs, field.Invalid(fld.Child("maxFailedIndexes"), *s.MaxFailedIndexes,
				fmt.Sprintf("must be less than or equal to %d", maxFailedIndexesForIndexedJob)))
		}
		if s.Completions != nil && *s.Completions > completionsSoftLimit && s.BackoffLimitPerIndex != nil {
			if s.MaxFailedIndexes == nil {
				errs = append(errs, field.Required(fld.Child("maxFailedIndexes"),
					fmt.Sprintf("must be specified when completions is above %d", completionsSoftLimit)))
			}
			if s.Parallelism != nil && *s.Parallelism > parallelismLimitForHighCompletions {
				errs = append(errs, field.Invalid(fld.Child("parallelism"), *s.Parallelism,
					fmt.Sprintf("must be less than or equal to %d when completions are above %d and used with backoff limit per index",
						parallelismLimitForHighCompletions, completionsSoftLimit)))
			}
			if s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > maxFailedIndexesForHighCompletions {
				errs = append(errs, field.Invalid(fld.Child("maxFailedIndexes"), *s.MaxFailedIndexes,
					fmt.Sprintf("must be less than or equal to %d when completions are above %d and used with backoff limit per index",
						maxFailedIndexesForHighCompletions, completionsSoftLimit)))
			}
		}
		return errs
	}
	if s.BackoffLimitPerIndex != nil {
		errs = append(errs, field.Invalid(fld.Child("backoffLimitPerIndex"), *s.BackoffLimitPerIndex, "requires indexed completion mode"))
	}
	if s.MaxFailedIndexes != nil {
		errs = append(errs, field.Invalid(fld.Child("maxFailedIndexes"), *s.MaxFailedIndexes, "requires indexed completion mode"))
	}
	return errs
}

func validatePodFailurePolicy(s *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	rules := fld.Child("rules")
	if len(s.PodFailurePolicy.Rules) > maxPodFailurePolicyRules {
		errs = append(errs, field.TooMany(rules, len(s.PodFailurePolicy.Rules), maxPodFailurePolicyRules))
	}
	containers := sets.New[string]()
	for _, c := range s.Template.Spec.Containers {
		containers.Insert(c.Name)
	}
	for _, c := range s.Template.Spec.InitContainers {
		containers.Insert(c.Name)
	}
	for i := range s.PodFailurePolicy.Rules {
		errs = append(errs, validatePodFailurePolicyRule(s, &s.PodFailurePolicy.Rules[i], rules.Index(i), containers)...)
	}
	return errs
}

func validatePodFailurePolicyRule(s *batchv1.JobSpec, r *batchv1.PodFailurePolicyRule, fld *field.Path, containers sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	af := fld.Child("action")
	switch {
	case r.Action == "":
		errs = append(errs, field.Required(af, fmt.Sprintf("valid values: %q", podFailurePolicyActions)))
	case r.Action == batchv1.PodFailurePolicyActionFailIndex:
		if s.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Invalid(af, r.Action, "requires the backoffLimitPerIndex to be set"))
		}
	case !contains(podFailurePolicyActions, r.Action):
		errs = append(errs, field.NotSupported(af, r.Action, podFailurePolicyActions))
	}
	if r.OnExitCodes != nil {
		errs = append(errs, validateOnExitCodes(r.OnExitCodes, fld.Child("onExitCodes"), containers)...)
	}
	if len(r.OnPodConditions) > 0 {
		cf := fld.Child("onPodConditions")
		if len(r.OnPodConditions) > maxPodFailurePolicyOnPodConditions {
			errs = append(errs, field.TooMany(cf, len(r.OnPodConditions), maxPodFailurePolicyOnPodConditions))
		}
		for j, p := range r.OnPodConditions {
			pf := cf.Index(j)
			errs = append(errs, podspec.QualifiedName(string(p.Type), pf.Child("type"))...)
			switch {
			case p.Status == "":
				errs = append(errs, field.Required(pf.Child("status"), fmt.Sprintf("valid values: %q", conditionStatuses)))
			case !contains(conditionStatuses, p.Status):
				errs = append(errs, field.NotSupported(pf.Child("status"), p.Status, conditionStatuses))
			}
		}
	}
	switch {
	case r.OnExitCodes != nil && len(r.OnPodConditions) > 0:
		errs = append(errs, field.Invalid(fld, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
	case r.OnExitCodes == nil && len(r.OnPodConditions) == 0:
		errs = append(errs, field.Invalid(fld, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
	}
	return errs
}

func validateOnExitCodes(r *batchv1.PodFailurePolicyOnExitCodesRequirement, fld *field.Path, containers sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	switch {
	case r.Operator == "":
		errs = append(errs, field.Required(fld.Child("operator"), fmt.Sprintf("valid values: %q", exitCodeOperators)))
	case !contains(exitCodeOperators, r.Operator):
		errs = append(errs, field.NotSupported(fld.Child("operator"), r.Operator, exitCodeOperators))
	}
	if r.ContainerName != nil && !containers.Has(*r.ContainerName) {
		errs = append(errs, field.Invalid(fld.Child("containerName"), *r.ContainerName, "must be one of the container or initContainer names in the pod template"))
	}
	vf := fld.Child("values")
	switch {
	case len(r.Values) == 0:
		errs = append(errs, field.Invalid(vf, r.Values, "at least one value is required"))
	case len(r.Values) > maxPodFailurePolicyOnExitCodeValues:
		errs = append(errs, field.TooMany(vf, len(r.Values), maxPodFailurePolicyOnExitCodeValues))
	}
	seen := sets.New[int32]()
	ordered := true
	for i, v := range r.Values {
		if r.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0 {
			errs = append(errs, field.Invalid(vf.Index(i), v, "must not be 0 for the In operator"))
		}
		if seen.Has(v) {
			errs = append(errs, field.Duplicate(vf.Index(i), v))
		}
		seen.Insert(v)
		if i > 0 && r.Values[i-1] > v {
			ordered = false
		}
	}
	if !ordered {
		errs = append(errs, field.Invalid(vf, r.Values, "must be ordered"))
	}
	return errs
}

func validateSuccessPolicy(s *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	rules := fld.Child("rules")
	if len(s.SuccessPolicy.Rules) == 0 {
		errs = append(errs, field.Required(rules, "at least one rules must be specified when the successPolicy is specified"))
	}
	if len(s.SuccessPolicy.Rules) > maxSuccessPolicyRules {
		errs = append(errs, field.TooMany(rules, len(s.SuccessPolicy.Rules), maxSuccessPolicyRules))
	}
	completions := int32(0)
	if s.Completions != nil {
		completions = *s.Completions
	}
	for i, r := range s.SuccessPolicy.Rules {
		rf := rules.Index(i)
		if r.SucceededCount == nil && r.SucceededIndexes == nil {
			errs = append(errs, field.Required(rf, "at least one of succeededCount or succeededIndexes must be specified"))
		}
		var total int32
		if r.SucceededIndexes != nil {
			xf := rf.Child("succeededIndexes")
			if len(*r.SucceededIndexes) > maxSucceededIndexesLength {
				errs = append(errs, field.TooLong(xf, "", maxSucceededIndexesLength))
			}
			var err error
			if total, err = countIndexes(*r.SucceededIndexes, completions); err != nil {
				errs = append(errs, field.Invalid(xf, *r.SucceededIndexes, fmt.Sprintf("error parsing succeededIndexes: %s", err.Error())))
			}
		}
		if r.SucceededCount != nil {
			cf := rf.Child("succeededCount")
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*r.SucceededCount), cf)...)
			if *r.SucceededCount > completions {
				errs = append(errs, field.Invalid(cf, *r.SucceededCount, fmt.Sprintf("must be less than or equal to %d (the number of specified completions)", completions)))
			}
			if r.SucceededIndexes != nil && *r.SucceededCount > total {
				errs = append(errs, field.Invalid(cf, *r.SucceededCount, fmt.Sprintf("must be less than or equal to %d (the number of indexes in the specified succeededIndexes field)", total)))
			}
		}
	}
	return errs
}

// countIndexes parses an index list like "1,3-5" and counts the indexes in it.
func countIndexes(list string, completions int32) (int32, error) {
	if list == "" {
		return 0, nil
	}
	var total int32
	last := int32(-1)
	for _, part := range strings.Split(list, ",") {
		x, y, err := parseIndexInterval(part, completions)
		if err != nil {
			return 0, err
		}
		if last >= x {
			return 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", last, x)
		}
		total += y - x + 1
		last = y
	}
	return total, nil
}

func parseIndexInterval(s string, completions int32) (int32, int32, error) {
	limits := strings.Split(s, "-")
	if len(limits) > 2 {
		return 0, 0, fmt.Errorf("the fragment %q violates the requirement that an index interval can have at most two parts separated by '-'", s)
	}
	x, err := strconv.Atoi(limits[0])
	if err != nil {
		return 0, 0, fmt.Errorf("cannot convert string to integer for index: %q", limits[0])
	}
	if x >= int(completions) {
		return 0, 0, fmt.Errorf("too large index: %q", limits[0])
	}
	if len(limits) == 1 {
		return int32(x), int32(x), nil
	}
	y, err := strconv.Atoi(limits[1])
	if err != nil {
		return 0, 0, fmt.Errorf("cannot convert string to integer for index: %q", limits[1])
	}
	if y >= int(completions) {
		return 0, 0, fmt.Errorf("too large index: %q", limits[1])
	}
	if x >= y {
		return 0, 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", x, y)
	}
	return int32(x), int32(y), nil
}

// validateJobUpdate checks a changed job: most of the spec is fixed once the
// job exists; the pod template's scheduling directives may change while a
// suspended job has not started.
func validateJobUpdate(obj, old runtime.Object) field.ErrorList {
	j, oj := obj.(*batchv1.Job), old.(*batchv1.Job)
	_, hadName := oj.Spec.Template.Labels[batchv1.JobNameLabel]
	_, hadUID := oj.Spec.Template.Labels[batchv1.ControllerUidLabel]
	errs := validateJob(j, hadName && hadUID)
	fld := field.NewPath("spec")
	s, os := &j.Spec, &oj.Spec
	errs = append(errs, validateCompletionsUpdate(s, os, fld.Child("completions"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.Selector, os.Selector, fld.Child("selector"))...)
	errs = append(errs, validateJobTemplateUpdate(j, oj, fld.Child("template"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.CompletionMode, os.CompletionMode, fld.Child("completionMode"))...)
	errs = append(errs, immutable(s.PodFailurePolicy, os.PodFailurePolicy, fld.Child("podFailurePolicy"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.BackoffLimitPerIndex, os.BackoffLimitPerIndex, fld.Child("backoffLimitPerIndex"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.ManagedBy, os.ManagedBy, fld.Child("managedBy"))...)
	return append(errs, immutable(s.SuccessPolicy, os.SuccessPolicy, fld.Child("successPolicy"))...)
}

// validateCompletionsUpdate: completions are fixed, except that an indexed job
// may scale completions and parallelism together.
func validateCompletionsUpdate(s, old *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		return apivalidation.ValidateImmutableField(s.Completions, old.Completions, fld)
	}
	if equality.Semantic.DeepEqual(s.Completions, old.Completions) || s.Completions == nil {
		return nil
	}
	if s.Parallelism == nil || *s.Completions != *s.Parallelism {
		return field.ErrorList{field.Invalid(fld, s.Completions, "can only be modified in tandem with spec.parallelism")}
	}
	return nil
}

func validateJobTemplateUpdate(j, oj *batchv1.Job, fld *field.Path) field.ErrorList {
	t, ot := &j.Spec.Template, &oj.Spec.Template
	suspended := oj.Spec.Suspend != nil && *oj.Spec.Suspend
	if suspended && oj.Status.StartTime == nil {
		ot = ot.DeepCopy()
		switch {
		case t.Spec.Affinity == nil && ot.Spec.Affinity != nil:
			ot.Spec.Affinity.NodeAffinity = nil
			if equality.Semantic.DeepEqual(*ot.Spec.Affinity, corev1.Affinity{}) {
				ot.Spec.Affinity = nil
			}
		case t.Spec.Affinity != nil && ot.Spec.Affinity == nil:
			ot.Spec.Affinity = &corev1.Affinity{NodeAffinity: t.Spec.Affinity.NodeAffinity}
		case t.Spec.Affinity != nil && ot.Spec.Affinity != nil:
			ot.Spec.Affinity.NodeAffinity = t.Spec.Affinity.NodeAffinity
		}
		ot.Spec.NodeSelector = t.Spec.NodeSelector
		ot.Spec.Tolerations = t.Spec.Tolerations
		ot.Annotations = t.Annotations
		ot.Labels = t.Labels
		ot.Spec.SchedulingGates = t.Spec.SchedulingGates
	}
	return immutable(t, ot, fld)
}

// immutable is ValidateImmutableField showing the new value as upstream does.
func immutable(v, old interface{}, fld *field.Path) field.ErrorList {
	if equality.Semantic.DeepEqual(v, old) {
		return nil
	}
	return field.ErrorList{field.Invalid(fld, badvalue.Internal(v), apivalidation.FieldImmutableErrorMsg)}
}

// validateJobStatusUpdate checks what a status writer may report.
func validateJobStatusUpdate(j, oj *batchv1.Job) field.ErrorList {
	s := &j.Status
	fld := field.NewPath("status")
	errs := apivalidation.ValidateNonnegativeField(int64(s.Active), fld.Child("active"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.Succeeded), fld.Child("succeeded"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.Failed), fld.Child("failed"))...)
	if s.Ready != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.Ready), fld.Child("ready"))...)
	}
	if s.Terminating != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.Terminating), fld.Child("terminating"))...)
	}
	if u := s.UncountedTerminatedPods; u != nil {
		seen := sets.New[types.UID]()
		uf := fld.Child("uncountedTerminatedPods")
		for _, part := range []struct {
			name string
			uids []types.UID
		}{{"succeeded", u.Succeeded}, {"failed", u.Failed}} {
			for i, uid := range part.uids {
				p := uf.Child(part.name).Index(i)
				switch {
				case uid == "":
					errs = append(errs, field.Invalid(p, uid, "must not be empty"))
				case seen.Has(uid):
					errs = append(errs, field.Duplicate(p, uid))
				default:
					seen.Insert(uid)
				}
			}
		}
	}
	if conditionIsTrue(s.Conditions, batchv1.JobComplete) && conditionIsTrue(s.Conditions, batchv1.JobFailed) {
		errs = append(errs, field.Invalid(fld.Child("conditions"), field.OmitValueType{}, "cannot set Complete=True and Failed=true conditions"))
	}
	for _, t := range []batchv1.JobConditionType{batchv1.JobFailed, batchv1.JobComplete, batchv1.JobFailureTarget} {
		if conditionIsTrue(oj.Status.Conditions, t) && !conditionIsTrue(s.Conditions, t) {
			errs = append(errs, field.Invalid(fld.Child("conditions"), field.OmitValueType{}, fmt.Sprintf("cannot disable the terminal %s=True condition", t)))
		}
	}
	return errs
}

func conditionIsTrue(list []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	for _, c := range list {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
