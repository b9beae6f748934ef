package podspec

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

// volumeSources lists a volume's source fields in the order upstream checks them, so
// that "may not specify more than 1 volume type" names the same field.
func volumeSources(s *corev1.VolumeSource) []struct {
	name string
	set  bool
} {
	return []struct {
		name string
		set  bool
	}{
		{"emptyDir", s.EmptyDir != nil}, {"hostPath", s.HostPath != nil}, {"gitRepo", s.GitRepo != nil},
		{"gcePersistentDisk", s.GCEPersistentDisk != nil}, {"awsElasticBlockStore", s.AWSElasticBlockStore != nil},
		{"secret", s.Secret != nil}, {"nfs", s.NFS != nil}, {"iscsi", s.ISCSI != nil}, {"glusterfs", s.Glusterfs != nil},
		{"flocker", s.Flocker != nil}, {"persistentVolumeClaim", s.PersistentVolumeClaim != nil}, {"rbd", s.RBD != nil},
		{"cinder", s.Cinder != nil}, {"cephfs", s.CephFS != nil}, {"quobyte", s.Quobyte != nil},
		{"downwardAPI", s.DownwardAPI != nil}, {"fc", s.FC != nil}, {"flexVolume", s.FlexVolume != nil},
		{"configMap", s.ConfigMap != nil}, {"azureFile", s.AzureFile != nil}, {"vsphereVolume", s.VsphereVolume != nil},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil}, {"portworxVolume", s.PortworxVolume != nil},
		{"azureDisk", s.AzureDisk != nil}, {"storageos", s.StorageOS != nil}, {"projected", s.Projected != nil},
		{"scaleIO", s.ScaleIO != nil}, {"csi", s.CSI != nil}, {"ephemeral", s.Ephemeral != nil}, {"image", s.Image != nil},
	}
}

func volumeSourceCount(s *corev1.VolumeSource) int {
	n := 0
	for _, src := range volumeSources(s) {
		if src.set {
			n++
		}
	}
	return n
}

// validateVolumes checks the pod's volumes and returns the valid ones by name, for
// the mounts to refer to.
func validateVolumes(volumes []corev1.Volume, podName string, fld *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	created := sets.New[string]()
	if podName != "" {
		for _, v := range volumes {
			if v.Ephemeral != nil {
				created.Insert(podName + "-" + v.Name)
			}
		}
	}
	vols := map[string]corev1.VolumeSource{}
	for i, v := range volumes {
		idx := fld.Index(i)
		el := validateVolumeSource(&v.VolumeSource, idx, v.Name, podName)
		if v.Name == "" {
			el = append(el, field.Required(idx.Child("name"), ""))
		} else {
			el = append(el, dns1123Label(v.Name, idx.Child("name"))...)
		}
		if names.Has(v.Name) {
			el = append(el, field.Duplicate(idx.Child("name"), v.Name))
		}
		if len(el) == 0 {
			names.Insert(v.Name)
			vols[v.Name] = v.VolumeSource
		} else {
			errs = append(errs, el...)
		}
		if v.PersistentVolumeClaim != nil && created.Has(v.PersistentVolumeClaim.ClaimName) {
			errs = append(errs, field.Invalid(idx.Child("persistentVolumeClaim").Child("claimName"), v.PersistentVolumeClaim.ClaimName,
				"must not reference a PVC that gets created for an ephemeral volume"))
		}
	}
	return vols, errs
}

func validateVolumeSource(s *corev1.VolumeSource, fld *field.Path, volName string, podName string) field.ErrorList {
	var errs field.ErrorList
	seen := 0
	for _, src := range volumeSources(s) {
		if !src.set {
			continue
		}
		if seen > 0 {
			errs = append(errs, field.Forbidden(fld.Child(src.name), "may not specify more than 1 volume type"))
			continue
		}
		seen++
		errs = append(errs, validateOneSource(s, src.name, fld, volName, podName)...)
	}
	if seen == 0 {
		errs = append(errs, field.Required(fld, "must specify a volume type"))
	}
	return errs
}

func validateOneSource(s *corev1.VolumeSource, name string, fld *field.Path, volName string, podName string) field.ErrorList {
	var errs field.ErrorList
	p := fld.Child(name)
	switch name {
	case "emptyDir":
		if s.EmptyDir.SizeLimit != nil && s.EmptyDir.SizeLimit.Cmp(resource.Quantity{}) < 0 {
			errs = append(errs, field.Forbidden(p.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
	case "hostPath":
		if s.HostPath.Path == "" {
			return field.ErrorList{field.Required(p.Child("path"), "")}
		}
		errs = append(errs, noBacksteps(s.HostPath.Path, p.Child("path"))...)
		if t := s.HostPath.Type; t != nil && !hostPathTypes.Has(*t) {
			errs = append(errs, field.NotSupported(p.Child("type"), t, sets.List(hostPathTypes)))
		}
	case "gitRepo":
		if s.GitRepo.Repository == "" {
			errs = append(errs, field.Required(p.Child("repository"), ""))
		}
		errs = append(errs, localDescendingPath(s.GitRepo.Directory, p.Child("directory"))...)
	case "gcePersistentDisk":
		if s.GCEPersistentDisk.PDName == "" {
			errs = append(errs, field.Required(fld.Child("persistentDisk").Child("pdName"), ""))
		}
	case "awsElasticBlockStore":
		if s.AWSElasticBlockStore.VolumeID == "" {
			errs = append(errs, field.Required(p.Child("volumeID"), ""))
		}
	case "secret":
		if s.Secret.SecretName == "" {
			errs = append(errs, field.Required(p.Child("secretName"), ""))
		}
		errs = append(errs, validateMode(s.Secret.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.Secret.Items {
			errs = append(errs, validateKeyToPath(&s.Secret.Items[i], p.Child("items").Index(i))...)
		}
	case "nfs":
		if s.NFS.Server == "" {
			errs = append(errs, field.Required(p.Child("server"), ""))
		}
		if s.NFS.Path == "" {
			errs = append(errs, field.Required(p.Child("path"), ""))
		}
		if !path.IsAbs(s.NFS.Path) {
			errs = append(errs, field.Invalid(p.Child("path"), s.NFS.Path, "must be an absolute path"))
		}
	case "iscsi":
		if s.ISCSI.TargetPortal == "" {
			errs = append(errs, field.Required(p.Child("targetPortal"), ""))
		}
		if s.ISCSI.IQN == "" {
			errs = append(errs, field.Required(p.Child("iqn"), ""))
		}
		if s.ISCSI.Lun < 0 || s.ISCSI.Lun > 255 {
			errs = append(errs, field.Invalid(p.Child("lun"), s.ISCSI.Lun, validation.InclusiveRangeError(0, 255)))
		}
	case "glusterfs":
		if s.Glusterfs.EndpointsName == "" {
			errs = append(errs, field.Required(p.Child("endpoints"), ""))
		}
		if s.Glusterfs.Path == "" {
			errs = append(errs, field.Required(p.Child("path"), ""))
		}
	case "persistentVolumeClaim":
		if s.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("claimName"), ""))
		}
	case "rbd":
		if len(s.RBD.CephMonitors) == 0 {
			errs = append(errs, field.Required(p.Child("monitors"), ""))
		}
		if s.RBD.RBDImage == "" {
			errs = append(errs, field.Required(p.Child("image"), ""))
		}
	case "cinder":
		if s.Cinder.VolumeID == "" {
			errs = append(errs, field.Required(p.Child("volumeID"), ""))
		}
	case "cephfs":
		if len(s.CephFS.Monitors) == 0 {
			errs = append(errs, field.Required(p.Child("monitors"), ""))
		}
	case "downwardAPI":
		errs = append(errs, validateMode(s.DownwardAPI.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.DownwardAPI.Items {
			errs = append(errs, validateDownwardAPIFile(&s.DownwardAPI.Items[i], p)...)
		}
	case "fc":
		if len(s.FC.TargetWWNs) < 1 && len(s.FC.WWIDs) < 1 {
			errs = append(errs, field.Required(p.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"))
		}
	case "flexVolume":
		if s.FlexVolume.Driver == "" {
			errs = append(errs, field.Required(p.Child("driver"), ""))
		}
	case "configMap":
		if s.ConfigMap.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		errs = append(errs, validateMode(s.ConfigMap.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.ConfigMap.Items {
			errs = append(errs, validateKeyToPath(&s.ConfigMap.Items[i], p.Child("items").Index(i))...)
		}
	case "azureFile":
		if s.AzureFile.SecretName == "" {
			errs = append(errs, field.Required(p.Child("secretName"), ""))
		}
		if s.AzureFile.ShareName == "" {
			errs = append(errs, field.Required(p.Child("shareName"), ""))
		}
	case "vsphereVolume":
		if s.VsphereVolume.VolumePath == "" {
			errs = append(errs, field.Required(p.Child("volumePath"), ""))
		}
	case "azureDisk":
		if s.AzureDisk.DiskName == "" {
			errs = append(errs, field.Required(p.Child("diskName"), ""))
		}
		if s.AzureDisk.DataDiskURI == "" {
			errs = append(errs, field.Required(p.Child("diskURI"), ""))
		}
	case "projected":
		errs = append(errs, validateMode(s.Projected.DefaultMode, p.Child("defaultMode"))...)
		errs = append(errs, validateProjection(s.Projected, p)...)
	case "csi":
		if s.CSI.Driver == "" {
			errs = append(errs, field.Required(p.Child("driver"), ""))
		} else {
			errs = append(errs, validateCSIDriverName(s.CSI.Driver, p.Child("driver"))...)
		}
		if ref := s.CSI.NodePublishSecretRef; ref != nil {
			if ref.Name == "" {
				errs = append(errs, field.Required(p.Child("nodePublishSecretRef", "name"), ""))
			} else {
				for _, msg := range apivalidation.NameIsDNSSubdomain(ref.Name, false) {
					errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg))
				}
			}
		}
	case "ephemeral":
		if s.Ephemeral.VolumeClaimTemplate == nil {
			errs = append(errs, field.Required(p.Child("volumeClaimTemplate"), ""))
		} else {
			t := s.Ephemeral.VolumeClaimTemplate
			tp := p.Child("volumeClaimTemplate")
			errs = append(errs, validateTemplateMeta(&t.ObjectMeta, tp.Child("metadata"))...)
			errs = append(errs, ValidateClaimSpec(&t.Spec, tp.Child("spec"))...)
			if podName != "" && volName != "" {
				claim := podName + "-" + volName
				for _, msg := range apivalidation.NameIsDNSSubdomain(claim, false) {
					errs = append(errs, field.Invalid(fld.Child("name"), volName, fmt.Sprintf("PVC name %q: %v", claim, msg)))
				}
			}
		}
	case "image":
		if s.Image.Reference == "" {
			errs = append(errs, field.Required(p.Child("reference"), ""))
		}
		errs = append(errs, validatePullPolicy(s.Image.PullPolicy, p.Child("pullPolicy"))...)
	}
	return errs
}

var hostPathTypes = sets.New(corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
	corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev)

func validateMode(mode *int32, fld *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0777 || *mode < 0) {
		return field.ErrorList{field.Invalid(fld, *mode, fileModeErrorMsg)}
	}
	return nil
}

func validateKeyToPath(kp *corev1.KeyToPath, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if kp.Key == "" {
		errs = append(errs, field.Required(fld.Child("key"), ""))
	}
	if kp.Path == "" {
		errs = append(errs, field.Required(fld.Child("path"), ""))
	}
	errs = append(errs, localNonReservedPath(kp.Path, fld.Child("path"))...)
	errs = append(errs, validateMode(kp.Mode, fld.Child("mode"))...)
	return errs
}

var volumeDownwardAPIFields = sets.New("metadata.name", "metadata.namespace", "metadata.labels", "metadata.annotations", "metadata.uid")

func validateDownwardAPIFile(f *corev1.DownwardAPIVolumeFile, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.Path == "" {
		errs = append(errs, field.Required(fld.Child("path"), ""))
	}
	errs = append(errs, localNonReservedPath(f.Path, fld.Child("path"))...)
	switch {
	case f.FieldRef != nil:
		errs = append(errs, validateObjectFieldSelector(f.FieldRef, volumeDownwardAPIFields, fld.Child("fieldRef"))...)
		if f.ResourceFieldRef != nil {
			errs = append(errs, field.Invalid(fld, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateResourceFieldSelector(f.ResourceFieldRef, fld.Child("resourceFieldRef"), true)...)
	default:
		errs = append(errs, field.Required(fld, "one of fieldRef and resourceFieldRef is required"))
	}
	errs = append(errs, validateMode(f.Mode, fld.Child("mode"))...)
	return errs
}

func validateProjection(p *corev1.ProjectedVolumeSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	claim := func(pth, what string) {
		if pth == "" {
			return
		}
		if paths.Has(pth) {
			errs = append(errs, field.Invalid(fld, what, "conflicting duplicate paths"))
		}
		paths.Insert(pth)
	}
	for i, src := range p.Sources {
		sp := fld.Child("sources").Index(i)
		n := 0
		if src.Secret != nil {
			n++
			pp := sp.Child("secret")
			if src.Secret.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			}
			for j := range src.Secret.Items {
				errs = append(errs, validateKeyToPath(&src.Secret.Items[j], pp.Child("items").Index(j))...)
				claim(src.Secret.Items[j].Path, src.Secret.Name)
			}
		}
		if src.ConfigMap != nil {
			n++
			pp := sp.Child("configMap")
			if src.ConfigMap.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			}
			for j := range src.ConfigMap.Items {
				errs = append(errs, validateKeyToPath(&src.ConfigMap.Items[j], pp.Child("items").Index(j))...)
				claim(src.ConfigMap.Items[j].Path, src.ConfigMap.Name)
			}
		}
		if src.DownwardAPI != nil {
			n++
			for j := range src.DownwardAPI.Items {
				f := &src.DownwardAPI.Items[j]
				errs = append(errs, validateDownwardAPIFile(f, sp.Child("downwardAPI"))...)
				claim(f.Path, f.Path)
			}
		}
		if t := src.ServiceAccountToken; t != nil {
			n++
			pp := sp.Child("serviceAccountToken")
			exp := int64(0)
			if t.ExpirationSeconds != nil {
				exp = *t.ExpirationSeconds
			}
			if exp < 10*60 {
				errs = append(errs, field.Invalid(pp.Child("expirationSeconds"), exp, "may not specify a duration less than 10 minutes"))
			}
			if exp > 1<<32 {
				errs = append(errs, field.Invalid(pp.Child("expirationSeconds"), exp, "may not specify a duration larger than 2^32 seconds"))
			}
			if t.Path == "" {
				errs = append(errs, field.Required(fld.Child("path"), ""))
			} else {
				errs = append(errs, localNonReservedPath(t.Path, fld.Child("path"))...)
			}
		}
		if b := src.ClusterTrustBundle; b != nil {
			n++
			pp := sp.Child("clusterTrustBundle")
			switch {
			case b.Name != nil && b.SignerName != nil:
				errs = append(errs, field.Invalid(pp, GoNamed(b), "only one of name and signerName may be used"))
			case b.Name == nil && b.SignerName == nil:
				errs = append(errs, field.Required(pp, "either name or signerName must be specified"))
			}
			if b.Path == "" {
				errs = append(errs, field.Required(pp.Child("path"), ""))
			}
			errs = append(errs, localNonReservedPath(b.Path, pp.Child("path"))...)
			claim(b.Path, b.Path)
		}
		if src.PodCertificate != nil {
			n++
		}
		if n > 1 {
			errs = append(errs, field.Forbidden(sp, "may not specify more than 1 volume type per source"))
		}
	}
	return errs
}

// validateCSIDriverName follows upstream: a DNS subdomain of at most 63 characters.
func validateCSIDriverName(name string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(name) > 63 {
		errs = append(errs, field.TooLong(fld, "", 63))
	}
	for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(name)) {
		errs = append(errs, field.Invalid(fld, name, msg))
	}
	return errs
}

func localDescendingPath(p string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(p) {
		errs = append(errs, field.Invalid(fld, p, "must be a relative path"))
	}
	return append(errs, noBacksteps(p, fld)...)
}

func noBacksteps(p string, fld *field.Path) field.ErrorList {
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(fld, p, "must not contain '..'")}
		}
	}
	return nil
}

func localNonReservedPath(p string, fld *field.Path) field.ErrorList {
	errs := localDescendingPath(p, fld)
	if strings.HasPrefix(p, "..") && !strings.HasPrefix(p, "../") {
		errs = append(errs, field.Invalid(fld, p, "must not start with '..'"))
	}
	return errs
}
