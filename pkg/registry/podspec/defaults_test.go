package podspec

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestDefaultPodFillsWhatUpstreamFills(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "web", Image: "nginx",
			Ports:          []corev1.ContainerPort{{ContainerPort: 80}},
			LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{}}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9}}},
			Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
			Env:            []corev1.EnvVar{{Name: "N", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
		}},
		Volumes: []corev1.Volume{
			{Name: "plain"},
			{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}},
		},
	}}
	DefaultPod(pod)
	s := pod.Spec
	c := s.Containers[0]
	checks := []struct {
		name      string
		got, want interface{}
	}{
		{"restart policy is Always", s.RestartPolicy, corev1.RestartPolicyAlways},
		{"DNS policy is ClusterFirst", s.DNSPolicy, corev1.DNSClusterFirst},
		{"scheduler is the default scheduler", s.SchedulerName, "default-scheduler"},
		{"termination grace period is 30s", *s.TerminationGracePeriodSeconds, int64(30)},
		{"security context is empty, not nil", s.SecurityContext != nil, true},
		{"service links are enabled", *s.EnableServiceLinks, true},
		{"an untagged image is pulled Always", c.ImagePullPolicy, corev1.PullAlways},
		{"termination message path", c.TerminationMessagePath, "/dev/termination-log"},
		{"termination message policy", c.TerminationMessagePolicy, corev1.TerminationMessageReadFile},
		{"container port protocol is TCP", c.Ports[0].Protocol, corev1.ProtocolTCP},
		{"probe timeout", c.LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe period", c.LivenessProbe.PeriodSeconds, int32(10)},
		{"probe success threshold", c.LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failure threshold", c.LivenessProbe.FailureThreshold, int32(3)},
		{"http probe path", c.LivenessProbe.HTTPGet.Path, "/"},
		{"http probe scheme", c.LivenessProbe.HTTPGet.Scheme, corev1.URISchemeHTTP},
		{"grpc probe service is empty, not nil", *c.ReadinessProbe.GRPC.Service, ""},
		{"requests default to limits", c.Resources.Requests.Cpu().String(), "1"},
		{"field ref api version", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"a volume without source is an emptyDir", s.Volumes[0].EmptyDir != nil, true},
		{"configMap default mode is 0644", *s.Volumes[1].ConfigMap.DefaultMode, int32(420)},
		{"secret default mode is 0644", *s.Volumes[2].Secret.DefaultMode, int32(420)},
		{"hostPath type is unset", *s.Volumes[3].HostPath.Type, corev1.HostPathUnset},
		{"projected default mode is 0644", *s.Volumes[4].Projected.DefaultMode, int32(420)},
		{"token expiry is one hour", *s.Volumes[4].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds, int64(3600)},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestTemplatesDoNotGetPodOnlyDefaults(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}}}}}
	DefaultPodTemplateSpec(tmpl)
	if tmpl.Spec.EnableServiceLinks != nil {
		t.Errorf("enableServiceLinks was set on a template")
	}
	if tmpl.Spec.Containers[0].Resources.Requests != nil {
		t.Errorf("requests were copied from limits on a template")
	}
	if got := tmpl.Spec.Containers[0].ImagePullPolicy; got != corev1.PullIfNotPresent {
		t.Errorf("a tagged image got pull policy %s, want IfNotPresent", got)
	}
}

func TestImageTagDecidesThePullPolicy(t *testing.T) {
	cases := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.27", corev1.PullIfNotPresent},
		{"registry.local:5000/app", corev1.PullAlways},
		{"registry.local:5000/app:v2", corev1.PullIfNotPresent},
		{"app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
	}
	for _, tc := range cases {
		c := corev1.Container{Image: tc.image}
		defaultContainer(&c)
		if c.ImagePullPolicy != tc.want {
			t.Errorf("image %q: got %s, want %s", tc.image, c.ImagePullPolicy, tc.want)
		}
	}
}

func TestHostNetworkPodsGetHostPortsEqualToContainerPorts(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Image: "x",
		Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}}}
	DefaultPod(pod)
	if got := pod.Spec.Containers[0].Ports[0].HostPort; got != 8080 {
		t.Errorf("hostPort = %d, want 8080", got)
	}
}

func TestQOSClass(t *testing.T) {
	cpu := func(s string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(s)}
	}
	both := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	cases := []struct {
		name string
		res  corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"no requests or limits is BestEffort", corev1.ResourceRequirements{}, corev1.PodQOSBestEffort},
		{"a cpu request only is Burstable", corev1.ResourceRequirements{Requests: cpu("100m")}, corev1.PodQOSBurstable},
		{"equal cpu and memory requests and limits is Guaranteed", corev1.ResourceRequirements{Requests: both, Limits: both}, corev1.PodQOSGuaranteed},
		{"a cpu limit without memory is Burstable", corev1.ResourceRequirements{Requests: cpu("1"), Limits: cpu("1")}, corev1.PodQOSBurstable},
	}
	for _, tc := range cases {
		spec := &corev1.PodSpec{Containers: []corev1.Container{{Resources: tc.res}}}
		if got := QOSClass(spec); got != tc.want {
			t.Errorf("%s: got %s", tc.name, got)
		}
	}
}
