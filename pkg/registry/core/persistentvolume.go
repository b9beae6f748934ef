package core

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// PersistentVolumes is core/v1 persistentvolumes.
func PersistentVolumes() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "persistentvolumes", Kind: "PersistentVolume", SingularName: "persistentvolume", ShortNames: []string{"pv"},
		New:       func() runtime.Object { return &corev1.PersistentVolume{} },
		NewList:   func() runtime.Object { return &corev1.PersistentVolumeList{} },
		KeyPrefix: "persistentvolumes",
		Status:    true,
		Strategy: &registry.Generic{
			Defaults:         defaultPV,
			Validation:       func(obj runtime.Object) field.ErrorList { return validatePVSpec(&obj.(*corev1.PersistentVolume).Spec) },
			UpdateValidation: validatePVUpdate,
			Create: func(obj runtime.Object) {
				now := metav1.NewTime(time.Now().Truncate(time.Second))
				obj.(*corev1.PersistentVolume).Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
			},
			StatusUpdate: func(obj, old runtime.Object) {
				pv, oldPV := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
				if pv.Status.Phase != oldPV.Status.Phase && (pv.Status.LastPhaseTransitionTime == nil ||
					equality.Semantic.DeepEqual(pv.Status.LastPhaseTransitionTime, oldPV.Status.LastPhaseTransitionTime)) {
					now := metav1.NewTime(time.Now().Truncate(time.Second))
					pv.Status.LastPhaseTransitionTime = &now
				}
			},
			NoGeneration: true,
		},
		Table: pvTable,
	}
}

func defaultPV(obj runtime.Object) {
	pv := obj.(*corev1.PersistentVolume)
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &m
	}
	if hp := pv.Spec.HostPath; hp != nil && hp.Type == nil {
		t := corev1.HostPathUnset
		hp.Type = &t
	}
	roundList(pv.Spec.Capacity)
}

var reclaimPolicies = sets.New(corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain)

// pvSources lists a PV's source fields in upstream's checking order.
func pvSources(s *corev1.PersistentVolumeSpec) []struct {
	name string
	set  bool
} {
	return []struct {
		name string
		set  bool
	}{
		{"hostPath", s.HostPath != nil}, {"gcePersistentDisk", s.GCEPersistentDisk != nil},
		{"awsElasticBlockStore", s.AWSElasticBlockStore != nil}, {"glusterfs", s.Glusterfs != nil},
		{"flocker", s.Flocker != nil}, {"nfs", s.NFS != nil}, {"rbd", s.RBD != nil}, {"quobyte", s.Quobyte != nil},
		{"cinder", s.Cinder != nil}, {"cephfs", s.CephFS != nil}, {"iscsi", s.ISCSI != nil}, {"fc", s.FC != nil},
		{"azureFile", s.AzureFile != nil}, {"flexVolume", s.FlexVolume != nil}, {"vsphereVolume", s.VsphereVolume != nil},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil}, {"portworxVolume", s.PortworxVolume != nil},
		{"azureDisk", s.AzureDisk != nil}, {"scaleIO", s.ScaleIO != nil}, {"local", s.Local != nil},
		{"storageos", s.StorageOS != nil}, {"csi", s.CSI != nil},
	}
}

func validatePVSpec(s *corev1.PersistentVolumeSpec) field.ErrorList {
	var errs field.ErrorList
	fld := field.NewPath("spec")
	if len(s.AccessModes) == 0 {
		errs = append(errs, field.Required(fld.Child("accessModes"), ""))
	}
	rwop, other := false, false
	for _, m := range s.AccessModes {
		if !podspec.AccessModes.Has(m) {
			errs = append(errs, field.NotSupported(fld.Child("accessModes"), m, sets.List(podspec.AccessModes)))
		}
		if m == corev1.ReadWriteOncePod {
			rwop = true
		} else if podspec.AccessModes.Has(m) {
			other = true
		}
	}
	if rwop && other {
		errs = append(errs, field.Forbidden(fld.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"))
	}
	if len(s.Capacity) == 0 {
		errs = append(errs, field.Required(fld.Child("capacity"), ""))
	}
	if _, ok := s.Capacity[corev1.ResourceStorage]; !ok || len(s.Capacity) > 1 {
		errs = append(errs, field.NotSupported(fld.Child("capacity"), s.Capacity, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for _, n := range sortedResourceNames(s.Capacity) {
		if q := s.Capacity[n]; q.Cmp(resource.Quantity{}) <= 0 {
			errs = append(errs, field.Invalid(fld.Child("capacity").Key(string(n)), q.String(), "must be greater than zero"))
		}
	}
	if p := s.PersistentVolumeReclaimPolicy; p != "" && !reclaimPolicies.Has(p) {
		errs = append(errs, field.NotSupported(fld.Child("persistentVolumeReclaimPolicy"), p, sets.List(reclaimPolicies)))
	}
	if na := s.NodeAffinity; na != nil {
		if na.Required != nil {
			errs = append(errs, podspec.ValidateNodeSelector(na.Required, fld.Child("nodeAffinity", "required"))...)
		} else {
			errs = append(errs, field.Required(fld.Child("nodeAffinity", "required"), "must specify required node constraints"))
		}
	}
	seen := 0
	for _, src := range pvSources(s) {
		if !src.set {
			continue
		}
		if seen > 0 {
			errs = append(errs, field.Forbidden(fld.Child(src.name), "may not specify more than 1 volume type"))
			continue
		}
		seen++
		errs = append(errs, validatePVSource(s, src.name, fld)...)
	}
	if seen == 0 {
		errs = append(errs, field.Required(fld, "must specify a volume type"))
	}
	if m := s.VolumeMode; m != nil && !podspec.VolumeModes.Has(*m) {
		errs = append(errs, field.NotSupported(fld.Child("volumeMode"), *m, sets.List(podspec.VolumeModes)))
	}
	if c := s.VolumeAttributesClassName; c != nil {
		if *c == "" {
			errs = append(errs, field.Required(fld.Child("volumeAttributesClassName"), "an empty string is disallowed"))
		} else {
			for _, msg := range apivalidation.NameIsDNSSubdomain(*c, false) {
				errs = append(errs, field.Invalid(fld.Child("volumeAttributesClassName"), *c, msg))
			}
		}
		if s.CSI == nil {
			errs = append(errs, field.Required(fld.Child("csi"), "has to be specified when using volumeAttributesClassName"))
		}
	}
	if c := s.StorageClassName; c != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(c, false) {
			errs = append(errs, field.Invalid(fld.Child("storageClassName"), c, msg))
		}
	}
	return errs
}

func validatePVSource(s *corev1.PersistentVolumeSpec, name string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	p := fld.Child(name)
	switch name {
	case "hostPath":
		if s.HostPath.Path == "" {
			return field.ErrorList{field.Required(p.Child("path"), "")}
		}
		if strings.Contains("/"+s.HostPath.Path+"/", "/../") {
			errs = append(errs, field.Invalid(p.Child("path"), s.HostPath.Path, "must not contain '..'"))
		}
	case "nfs":
		if s.NFS.Server == "" {
			errs = append(errs, field.Required(p.Child("server"), ""))
		}
		if s.NFS.Path == "" {
			errs = append(errs, field.Required(p.Child("path"), ""))
		}
		if !strings.HasPrefix(s.NFS.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("path"), s.NFS.Path, "must be an absolute path"))
		}
	case "local":
		if s.Local.Path == "" {
			return field.ErrorList{field.Required(p.Child("path"), "")}
		}
		if strings.Contains("/"+s.Local.Path+"/", "/../") {
			errs = append(errs, field.Invalid(p.Child("path"), s.Local.Path, "must not contain '..'"))
		}
		if s.NodeAffinity == nil {
			errs = append(errs, field.Required(fld.Child("nodeAffinity"), "Local volume requires node affinity"))
		}
	case "csi":
		if s.CSI.Driver == "" {
			errs = append(errs, field.Required(p.Child("driver"), ""))
		}
		if s.CSI.VolumeHandle == "" {
			errs = append(errs, field.Required(p.Child("volumeHandle"), ""))
		}
	}
	return errs
}

// validatePVUpdate: the volume source and mode are fixed once created.
func validatePVUpdate(obj, old runtime.Object) field.ErrorList {
	pv, oldPV := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	errs := validatePVSpec(&pv.Spec)
	newSrc, oldSrc := pv.Spec.PersistentVolumeSource, oldPV.Spec.PersistentVolumeSource
	if oldSrc.CSI != nil && oldSrc.CSI.ControllerExpandSecretRef == nil && newSrc.CSI != nil && newSrc.CSI.ControllerExpandSecretRef != nil {
		c := *newSrc.CSI
		c.ControllerExpandSecretRef = nil
		newSrc.CSI = &c
	}
	if !equality.Semantic.DeepEqual(newSrc, oldSrc) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "persistentvolumesource"),
			fmt.Sprintf("spec.persistentvolumesource is immutable after creation\n%v", podspec.SpecDiff(oldSrc, newSrc))))
	}
	errs = append(errs, apivalidation.ValidateImmutableField(pv.Spec.VolumeMode, oldPV.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if oldPV.Spec.VolumeAttributesClassName != nil && pv.Spec.VolumeAttributesClassName == nil {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "volumeAttributesClassName"), "update from non-nil value to nil is forbidden"))
	}
	return errs
}

var pvTable = &registry.Table{
	Cols: []metav1.TableColumnDefinition{registry.NameColumn,
		registry.Col("Capacity", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["capacity"], 0),
		registry.Col("Access Modes", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["accessModes"], 0),
		registry.Col("Reclaim Policy", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["persistentVolumeReclaimPolicy"], 0),
		registry.Col("Status", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"], 0),
		registry.Col("Claim", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["claimRef"], 0),
		registry.Col("StorageClass", "string", "StorageClass of the pv", 0),
		registry.Col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv", 0),
		registry.Col("Reason", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"], 0),
		registry.AgeColumn,
		registry.Col("VolumeMode", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["volumeMode"], 1),
	},
	Cells: func(obj runtime.Object) []interface{} {
		pv := obj.(*corev1.PersistentVolume)
		claim := ""
		if r := pv.Spec.ClaimRef; r != nil {
			claim = r.Namespace + "/" + r.Name
		}
		size := pv.Spec.Capacity[corev1.ResourceStorage]
		phase := string(pv.Status.Phase)
		if pv.DeletionTimestamp != nil {
			phase = "Terminating"
		}
		class := pv.Spec.StorageClassName
		if class == "" {
			class = pv.Annotations[corev1.BetaStorageClassAnnotation]
		}
		return []interface{}{pv.Name, size.String(), accessModesString(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
			phase, claim, class, unsetOr(pv.Spec.VolumeAttributesClassName), pv.Status.Reason, registry.Age(pv.CreationTimestamp),
			volumeModeString(pv.Spec.VolumeMode)}
	},
}

func unsetOr(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

func volumeModeString(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}

// accessModesString abbreviates access modes (RWO,ROX,RWX,RWOP) in upstream's order.
func accessModesString(modes []corev1.PersistentVolumeAccessMode) string {
	has := sets.New(modes...)
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{{corev1.ReadWriteOnce, "RWO"}, {corev1.ReadOnlyMany, "ROX"}, {corev1.ReadWriteMany, "RWX"}, {corev1.ReadWriteOncePod, "RWOP"}} {
		if has.Has(m.mode) {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}
