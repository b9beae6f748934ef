package podsecurity

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
)

func ns(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func privilegedPod() *corev1.Pod {
	yes := true
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}}}
}

func restrictedPod() *corev1.Pod {
	no, yes := false, true
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no,
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}}}}
}

func attrsFor(resource string, obj runtime.Object) *admission.Attributes {
	var warnings []string
	group := ""
	if resource == "deployments" {
		group = "apps"
	}
	return &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource},
		Namespace: "ns", Name: "p", Object: obj, Warnings: &warnings, Annotations: map[string]string{}}
}

func TestPodsAreCheckedAgainstTheirNamespacesLevels(t *testing.T) {
	cases := []struct {
		name        string
		labels      map[string]string
		pod         *corev1.Pod
		wantErr     string
		wantWarning string
	}{
		{"an unlabelled namespace admits a privileged pod", nil, privilegedPod(), "", ""},
		{"restricted enforcement refuses a privileged pod", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, privilegedPod(),
			`pods "p" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`, ""},
		{"baseline enforcement refuses a privileged pod", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}, privilegedPod(),
			`pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`, ""},
		{"restricted enforcement admits a restricted pod", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, restrictedPod(), "", ""},
		{"warn mode admits with a warning", map[string]string{"pod-security.kubernetes.io/warn": "baseline"}, privilegedPod(), "",
			`would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{"a pinned version is named in the message", map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.30"}, privilegedPod(),
			`pods "p" is forbidden: violates PodSecurity "baseline:v1.30": privileged (container "c" must not set securityContext.privileged=true)`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(admissiontest.New().Add("namespaces", ns("ns", c.labels)))
			if err != nil {
				t.Fatal(err)
			}
			a := attrsFor("pods", c.pod)
			err = p.Validate(context.Background(), a)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
				t.Errorf("got %v\nwant %s", err, c.wantErr)
			}
			if c.wantWarning == "" && len(*a.Warnings) > 0 || c.wantWarning != "" && (len(*a.Warnings) != 1 || (*a.Warnings)[0] != c.wantWarning) {
				t.Errorf("warnings %q, want %q", *a.Warnings, c.wantWarning)
			}
		})
	}
}

func TestAWorkloadTemplateIsWarnedAboutButNotRefused(t *testing.T) {
	p, _ := New(admissiontest.New().Add("namespaces", ns("ns", map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"})))
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: privilegedPod().Spec}}}
	a := attrsFor("deployments", d)
	if err := p.Validate(context.Background(), a); err != nil {
		t.Fatalf("refused: %v", err)
	}
	if len(*a.Warnings) != 1 || !strings.HasPrefix((*a.Warnings)[0], `would violate PodSecurity "restricted:latest": privileged`) {
		t.Errorf("warnings %q", *a.Warnings)
	}
}

func TestANamespaceWithABadLevelIsRefusedAndAStricterOneWarnsOfExistingPods(t *testing.T) {
	p, _ := New(admissiontest.New().Add("pods", privilegedPod()))
	bad := ns("ns", map[string]string{"pod-security.kubernetes.io/enforce": "strict"})
	a := &admission.Attributes{Operation: admission.Create, Kind: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"},
		Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Name: "ns", Object: bad}
	if err := p.Validate(context.Background(), a); err == nil || !strings.Contains(err.Error(), `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict"`) {
		t.Errorf("got %v", err)
	}
	var warnings []string
	up := &admission.Attributes{Operation: admission.Update, Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Name: "ns",
		Object: ns("ns", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}), OldObject: ns("ns", nil), Warnings: &warnings}
	if err := p.Validate(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	want := []string{`existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"`, "p: privileged"}
	if strings.Join(warnings, "|") != strings.Join(want, "|") {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
}
