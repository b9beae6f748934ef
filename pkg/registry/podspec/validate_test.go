package podspec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validPod is a defaulted pod that passes validation; cases break one thing.
func validPod() *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "app", Image: "nginx:1.27",
				Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{Name: "data"}},
		},
	}
	DefaultPod(pod)
	return pod
}

// summary renders errors as "Type path: detail" lines, what a user reads in a 422.
func summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field+": "+e.Detail)
	}
	return out
}

func TestValidatePod(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string // prefixes of "Type path: detail", in order; nil means valid
	}{
		{"a defaulted pod is valid", func(*corev1.Pod) {}, nil},
		{"a pod needs containers", func(p *corev1.Pod) { p.Spec.Containers = nil },
			[]string{"FieldValueRequired spec.containers: "}},
		{"a container needs an image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]string{"FieldValueRequired spec.containers[0].image: "}},
		{"container names are DNS labels", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "App_1" },
			[]string{"FieldValueInvalid spec.containers[0].name: a lowercase RFC 1123 label"}},
		{"container names are unique", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, p.Spec.Containers[0])
			p.Spec.Containers[1].Ports = nil
		}, []string{"FieldValueDuplicate spec.containers[1].name: "}},
		{"a mount must name a volume", func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "nope" },
			[]string{"FieldValueNotFound spec.containers[0].volumeMounts[0].name: "}},
		{"ports are in range", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 },
			[]string{"FieldValueInvalid spec.containers[0].ports[0].containerPort: must be between 1 and 65535, inclusive"}},
		{"port protocols are TCP, UDP or SCTP", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Protocol = "ICMP" },
			[]string{`FieldValueNotSupported spec.containers[0].ports[0].protocol: supported values: "SCTP", "TCP", "UDP"`}},
		{"env names may not contain =", func(p *corev1.Pod) { p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}} },
			[]string{"FieldValueInvalid spec.containers[0].env[0].name: "}},
		{"requests may not exceed limits", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
		}, []string{"FieldValueInvalid spec.containers[0].resources.requests: must be less than or equal to cpu limit of 1"}},
		{"unknown container resources are refused", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"gpu": resource.MustParse("1")}
		}, []string{"FieldValueInvalid spec.containers[0].resources.limits[gpu]: must be a standard resource type or fully qualified",
			"FieldValueInvalid spec.containers[0].resources.limits[gpu]: must be a standard resource for containers"}},
		{"a probe needs a handler", func(p *corev1.Pod) { p.Spec.Containers[0].LivenessProbe = &corev1.Probe{SuccessThreshold: 1} },
			[]string{"FieldValueRequired spec.containers[0].livenessProbe: must specify a handler type"}},
		{"a liveness probe must succeed once", func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}, SuccessThreshold: 2}
		}, []string{"FieldValueInvalid spec.containers[0].livenessProbe.successThreshold: must be 1"}},
		{"restart policy is one of three", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" },
			[]string{`FieldValueNotSupported spec.restartPolicy: supported values: "Always", "OnFailure", "Never"`}},
		{"DNS policy None needs a config", func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone },
			[]string{"FieldValueRequired spec.dnsConfig: must provide `dnsConfig` when `dnsPolicy` is None"}},
		{"a volume has one source", func(p *corev1.Pod) {
			p.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/tmp"}
		}, []string{"FieldValueForbidden spec.volumes[0].hostPath: may not specify more than 1 volume type",
			"FieldValueNotFound spec.containers[0].volumeMounts[0].name: "}},
		{"a configMap volume names its map", func(p *corev1.Pod) {
			p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}
		}, []string{"FieldValueRequired spec.volumes[0].configMap.name: ", "FieldValueNotFound spec.containers[0].volumeMounts[0].name: "}},
		{"tolerations with an empty key must use Exists", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpEqual, Value: "x"}}
		}, []string{"FieldValueInvalid spec.tolerations[0].operator: operator must be Exists when `key` is empty"}},
		{"host network pods need host ports equal to container ports", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 8080
		}, []string{"FieldValueInvalid spec.containers[0].ports[0].hostPort: must match `containerPort` when `hostNetwork` is true"}},
		{"images may not be padded", func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" },
			[]string{"FieldValueInvalid spec.containers[0].image: must not have leading or trailing whitespace"}},
		{"init containers without restartPolicy Always may not probe", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				ReadinessProbe:           &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}}}
		}, []string{"FieldValueForbidden spec.initContainers[0].readinessProbe: may not be set for init containers without restartPolicy=Always"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := validPod()
			tc.mutate(pod)
			got := summary(ValidatePod(pod))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors %q, want %d %q", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestValidatePodTemplateSpecReportsTemplatePaths(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
	}
	DefaultPodTemplateSpec(tmpl)
	got := summary(ValidatePodTemplateSpec(tmpl, field.NewPath("spec", "template")))
	want := []string{"FieldValueRequired spec.template.spec.containers[0].image: "}
	if len(got) != 1 || !strings.HasPrefix(got[0], want[0]) {
		t.Errorf("got %q, want %q", got, want)
	}
	if errs := ValidatePodTemplateSpec(nil, field.NewPath("spec", "template")); len(errs) != 1 || errs[0].Type != field.ErrorTypeRequired {
		t.Errorf("a missing template: got %v", errs)
	}
}

func TestValidateClaimSpec(t *testing.T) {
	ok := corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
	}
	if errs := ValidateClaimSpec(&ok, field.NewPath("spec")); len(errs) != 0 {
		t.Fatalf("a valid claim: %v", errs)
	}
	bad := corev1.PersistentVolumeClaimSpec{}
	got := summary(ValidateClaimSpec(&bad, field.NewPath("spec")))
	want := []string{"FieldValueRequired spec.accessModes: at least 1 access mode is required", "FieldValueRequired spec.resources[storage]: "}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q, want %q", got, want)
	}
}
