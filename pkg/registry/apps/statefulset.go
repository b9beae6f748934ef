package apps

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
	"github.com/minik8s/minik8s/pkg/registry/workload"
)

// StatefulSets is apps/v1 statefulsets. Their pods are named after the set, so
// the name must be a DNS label.
func StatefulSets() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Name: "statefulsets", Kind: "StatefulSet", SingularName: "statefulset",
		ShortNames: []string{"sts"}, Categories: []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &appsv1.StatefulSet{} },
		NewList:   func() runtime.Object { return &appsv1.StatefulSetList{} },
		KeyPrefix: "statefulsets",
		ValidName: apivalidation.NameIsDNSLabel,
		Status:    true,
		Scale: &registry.ScaleSubresource{
			SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas",
			GetReplicas: func(obj runtime.Object) (int32, int32) {
				s := obj.(*appsv1.StatefulSet)
				return deref(s.Spec.Replicas), s.Status.Replicas
			},
			SetReplicas: func(obj runtime.Object, n int32) { obj.(*appsv1.StatefulSet).Spec.Replicas = &n },
			Selector: func(obj runtime.Object) (string, error) {
				return scaleSelector(obj.(*appsv1.StatefulSet).Spec.Selector)
			},
		},
		Strategy: &registry.Generic{
			Defaults: defaultStatefulSet,
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateStatefulSetSpec(&obj.(*appsv1.StatefulSet).Spec, statefulSetChecks{})
			},
			UpdateValidation: validateStatefulSetUpdate,
			StatusValidation: func(obj, old runtime.Object) field.ErrorList {
				s, os := obj.(*appsv1.StatefulSet), old.(*appsv1.StatefulSet)
				return append(validateStatefulSetStatus(&s.Status), collisionCountNotDecremented(s.Status.CollisionCount, os.Status.CollisionCount)...)
			},
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Ready", "string", "Number of the pod with ready state", 0),
				registry.AgeColumn, workload.ContainersColumn, workload.ImagesColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				s := obj.(*appsv1.StatefulSet)
				names, images := workload.ContainerCells(s.Spec.Template.Spec.Containers)
				return []interface{}{s.Name, ratio(s.Status.ReadyReplicas, deref(s.Spec.Replicas)), registry.Age(s.CreationTimestamp), names, images}
			},
		},
	}
}

func defaultStatefulSet(obj runtime.Object) {
	s := obj.(*appsv1.StatefulSet)
	spec := &s.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := spec.UpdateStrategy.RollingUpdate; spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil && ru.Partition == nil {
		ru.Partition = int32Ptr(0)
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.Replicas == nil {
		spec.Replicas = int32Ptr(1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = int32Ptr(10)
	}
	podspec.DefaultPodTemplateSpec(&spec.Template)
	for i := range spec.VolumeClaimTemplates {
		c := &spec.VolumeClaimTemplates[i]
		// Storage keeps no kind for embedded claims; a template that names one
		// must compare equal to the stored one, or every update would look
		// like a forbidden change. (Upstream adds them back when it reads.)
		c.APIVersion, c.Kind = "", ""
		podspec.DefaultClaimSpec(&c.Spec)
		if c.Status.Phase == "" {
			c.Status.Phase = corev1.ClaimPending
		}
	}
}

// statefulSetChecks relax validation for updates, where some fields are
// immutable and an old, once-accepted value must stay acceptable.
type statefulSetChecks struct {
	skipServiceName, skipTemplate, skipClaimTemplates bool
}

func validateStatefulSetSpec(spec *appsv1.StatefulSetSpec, c statefulSetChecks) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(fld.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(fld.Child("podManagementPolicy"), spec.PodManagementPolicy, "must be 'OrderedReady' or 'Parallel'"))
	}
	errs = append(errs, validateStatefulSetUpdateStrategy(&spec.UpdateStrategy, fld.Child("updateStrategy"))...)
	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		pf := fld.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, validateRetentionPolicyType(p.WhenDeleted, pf.Child("whenDeleted"))...)
		errs = append(errs, validateRetentionPolicyType(p.WhenScaled, pf.Child("whenScaled"))...)
	}
	if !c.skipClaimTemplates {
		for i := range spec.VolumeClaimTemplates {
			errs = append(errs, podspec.ValidateClaimSpec(&spec.VolumeClaimTemplates[i].Spec, fld.Child("volumeClaimTemplates").Index(i).Child("spec"))...)
		}
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(deref(spec.Replicas)), fld.Child("replicas"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.Ordinals.Start), fld.Child("ordinals.start"))...)
	}
	if !c.skipServiceName && spec.ServiceName != "" {
		errs = append(errs, podspec.DNS1123Label(spec.ServiceName, fld.Child("serviceName"))...)
	}
	errs = append(errs, workload.ValidateSelector(spec.Selector, fld.Child("selector"), "statefulset")...)
	if _, err := metav1.LabelSelectorAsSelector(spec.Selector); err != nil {
		errs = append(errs, field.Invalid(fld.Child("selector"), spec.Selector, ""))
	} else {
		tf := fld.Child("template")
		errs = append(errs, workload.SelectorMatchesLabels(spec.Selector, spec.Template.Labels, tf.Child("metadata", "labels"))...)
		if !c.skipTemplate {
			errs = append(errs, podspec.ValidatePodTemplateSpec(statefulSetTemplateForValidation(spec), tf)...)
		}
	}
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fld.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if spec.Template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(fld.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"))
	}
	return errs
}

// statefulSetTemplateForValidation is the template as the controller will use
// it: hostname and subdomain are overwritten per pod, and each claim template
// becomes a volume the containers may mount.
func statefulSetTemplateForValidation(spec *appsv1.StatefulSetSpec) *corev1.PodTemplateSpec {
	t := &spec.Template
	if t.Spec.Hostname == "" && t.Spec.Subdomain == "" && len(spec.VolumeClaimTemplates) == 0 {
		return t
	}
	t = t.DeepCopy()
	t.Spec.Hostname, t.Spec.Subdomain = "", ""
	if len(spec.VolumeClaimTemplates) > 0 {
		fromClaims := map[string]bool{}
		var volumes []corev1.Volume
		for _, c := range spec.VolumeClaimTemplates {
			if fromClaims[c.Name] {
				continue
			}
			fromClaims[c.Name] = true
			volumes = append(volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name}}})
		}
		for _, v := range t.Spec.Volumes {
			if !fromClaims[v.Name] {
				volumes = append(volumes, v)
			}
		}
		t.Spec.Volumes = volumes
	}
	return t
}

func validateStatefulSetUpdateStrategy(s *appsv1.StatefulSetUpdateStrategy, fld *field.Path) field.ErrorList {
	switch s.Type {
	case "":
		return field.ErrorList{field.Required(fld, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			// Upstream's partition is a plain number, zero when unset.
			shown := struct {
				Partition      int32
				MaxUnavailable interface{}
			}{deref(s.RollingUpdate.Partition), s.RollingUpdate.MaxUnavailable}
			return field.ErrorList{field.Invalid(fld.Child("rollingUpdate"), shown, "only allowed for updateStrategy 'RollingUpdate'")}
		}
		return nil
	case appsv1.RollingUpdateStatefulSetStrategyType:
		ru := s.RollingUpdate
		if ru == nil {
			return nil
		}
		rf := fld.Child("rollingUpdate")
		errs := apivalidation.ValidateNonnegativeField(int64(deref(ru.Partition)), rf.Child("partition"))
		if ru.MaxUnavailable != nil {
			mf := rf.Child("maxUnavailable")
			errs = append(errs, workload.ValidateIntOrPercent(*ru.MaxUnavailable, mf)...)
			if workload.IntOrPercentValue(*ru.MaxUnavailable) == 0 {
				errs = append(errs, field.Invalid(mf, *ru.MaxUnavailable, "cannot be 0"))
			}
			errs = append(errs, workload.NotMoreThan100Percent(*ru.MaxUnavailable, mf)...)
		}
		return errs
	}
	return field.ErrorList{field.Invalid(fld, badvalue.Internal(*s), "must be 'RollingUpdate' or 'OnDelete'")}
}

func validateRetentionPolicyType(t appsv1.PersistentVolumeClaimRetentionPolicyType, fld *field.Path) field.ErrorList {
	switch t {
	case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return nil
	}
	return field.ErrorList{field.NotSupported(fld, t, []appsv1.PersistentVolumeClaimRetentionPolicyType{
		appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType})}
}

// validateStatefulSetUpdate allows changes only to the fields a running set can
// take: replicas, ordinals, template, update strategy, history limit, claim
// retention and minReadySeconds.
func validateStatefulSetUpdate(obj, old runtime.Object) field.ErrorList {
	s, os := obj.(*appsv1.StatefulSet), old.(*appsv1.StatefulSet)
	c := statefulSetChecks{skipServiceName: true, skipClaimTemplates: true}
	// A set stored before a rule tightened keeps its template acceptable.
	if len(validateStatefulSetSpec(&os.Spec, c)) > 0 {
		c.skipTemplate = true
	}
	errs := validateStatefulSetSpec(&s.Spec, c)
	rest := s.Spec.DeepCopy()
	rest.Replicas = os.Spec.Replicas
	rest.Template = os.Spec.Template
	rest.UpdateStrategy = os.Spec.UpdateStrategy
	rest.MinReadySeconds = os.Spec.MinReadySeconds
	rest.Ordinals = os.Spec.Ordinals
	rest.RevisionHistoryLimit = os.Spec.RevisionHistoryLimit
	rest.PersistentVolumeClaimRetentionPolicy = os.Spec.PersistentVolumeClaimRetentionPolicy
	if !equality.Semantic.DeepEqual(*rest, os.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return errs
}

func validateStatefulSetStatus(s *appsv1.StatefulSetStatus) field.ErrorList {
	fld := field.NewPath("status")
	errs := nonNegative(fld, counter{"replicas", int64(s.Replicas)}, counter{"readyReplicas", int64(s.ReadyReplicas)},
		counter{"currentReplicas", int64(s.CurrentReplicas)}, counter{"updatedReplicas", int64(s.UpdatedReplicas)},
		counter{"availableReplicas", int64(s.AvailableReplicas)}, counter{"observedGeneration", s.ObservedGeneration})
	if s.CollisionCount != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.CollisionCount), fld.Child("collisionCount"))...)
	}
	errs = append(errs, notAboveReplicas(fld, s.Replicas, counter{"readyReplicas", int64(s.ReadyReplicas)},
		counter{"currentReplicas", int64(s.CurrentReplicas)}, counter{"updatedReplicas", int64(s.UpdatedReplicas)},
		counter{"availableReplicas", int64(s.AvailableReplicas)})...)
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(fld.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than status.readyReplicas"))
	}
	return errs
}
