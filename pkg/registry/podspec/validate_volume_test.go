package podspec

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateVolumes(t *testing.T) {
	mode := int32(01000)
	hostType := corev1.HostPathType("Weird")
	short := int64(60)
	cases := []struct {
		name string
		vol  corev1.VolumeSource
		want []string // "Type path: detail" prefixes
	}{
		{"an emptyDir is valid", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, nil},
		{"a volume needs a source", corev1.VolumeSource{}, []string{"FieldValueRequired spec.volumes[0]: must specify a volume type"}},
		{"a hostPath needs a path", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{}},
			[]string{"FieldValueRequired spec.volumes[0].hostPath.path: "}},
		{"hostPath types are known ones", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x", Type: &hostType}},
			[]string{`FieldValueNotSupported spec.volumes[0].hostPath.type: supported values: "", "BlockDevice"`}},
		{"modes are at most 0777", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: &mode}},
			[]string{"FieldValueInvalid spec.volumes[0].secret.defaultMode: must be a number between 0 and 0777 (octal), both inclusive"}},
		{"item paths are relative", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Items: []corev1.KeyToPath{{Key: "k", Path: "/etc/x"}}}},
			[]string{"FieldValueInvalid spec.volumes[0].configMap.items[0].path: must be a relative path"}},
		{"item paths may not climb", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Items: []corev1.KeyToPath{{Key: "k", Path: "a/../../b"}}}},
			[]string{"FieldValueInvalid spec.volumes[0].configMap.items[0].path: must not contain '..'"}},
		{"nfs paths are absolute", corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "rel"}},
			[]string{"FieldValueInvalid spec.volumes[0].nfs.path: must be an absolute path"}},
		{"tokens live ten minutes at least", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t", ExpirationSeconds: &short}}}}},
			[]string{"FieldValueInvalid spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: may not specify a duration less than 10 minutes"}},
		{"projections have one source each", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
			ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}},
			Secret:    &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}}},
			[]string{"FieldValueForbidden spec.volumes[0].projected.sources[0]: may not specify more than 1 volume type per source"}},
		{"the downward API exposes metadata only in volumes", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "n", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}}},
			[]string{`FieldValueNotSupported spec.volumes[0].downwardAPI.fieldRef.fieldPath: supported values: "metadata.annotations"`}},
		{"an ephemeral volume needs a claim template", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}},
			[]string{"FieldValueRequired spec.volumes[0].ephemeral.volumeClaimTemplate: "}},
		{"a claim volume names its claim", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}},
			[]string{"FieldValueRequired spec.volumes[0].persistentVolumeClaim.claimName: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := &corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: tc.vol}},
				Containers: []corev1.Container{{Name: "c", Image: "i"}}}
			DefaultPodSpec(spec)
			if tc.vol == (corev1.VolumeSource{}) {
				spec.Volumes[0].VolumeSource = corev1.VolumeSource{}
			}
			got := summary(ValidatePodSpec(spec, nil, field.NewPath("spec")))
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("got %q, want prefix %q", got[i], tc.want[i])
				}
			}
		})
	}
}

func TestGoNamedPrintsLikeUpstreamsInternalTypes(t *testing.T) {
	yes, no := true, false
	sc := &corev1.SecurityContext{Privileged: &yes, AllowPrivilegeEscalation: &no}
	b, err := json.Marshal(GoNamed(sc))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.HasPrefix(got, `{"Capabilities":null,"Privileged":true,`) || !strings.Contains(got, `"AllowPrivilegeEscalation":false`) {
		t.Errorf("got %s", got)
	}
	diff := SpecDiff(corev1.PodSpec{RestartPolicy: "Always"}, corev1.PodSpec{RestartPolicy: "Never"})
	if !strings.Contains(diff, "- \"RestartPolicy\": \"Always\",\n+ \"RestartPolicy\": \"Never\",") {
		t.Errorf("diff:\n%s", diff)
	}
}
