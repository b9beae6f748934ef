package serviceaccount

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
)

func newPlugin(objects *admissiontest.Objects) *Plugin {
	p := New(objects)
	p.sleep = func(context.Context, time.Duration) {}
	p.volumeName = func() string { return TokenVolumePrefix + "abcde" }
	return p
}

func sa(name string, mutate func(*corev1.ServiceAccount)) *corev1.ServiceAccount {
	s := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "app"}}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func admit(t *testing.T, p *Plugin, pod *corev1.Pod) error {
	t.Helper()
	a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespaced: true, Namespace: "app", Name: pod.Name, Object: pod}
	return p.Admit(context.Background(), a)
}

func webPod(mutate func(*corev1.Pod)) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "app"},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: []corev1.Container{{Name: "app"}}}}
	if mutate != nil {
		mutate(pod)
	}
	return pod
}

func TestANewPodGetsItsAccountAndCredentials(t *testing.T) {
	objects := admissiontest.New().Add("serviceaccounts", sa("default", func(s *corev1.ServiceAccount) {
		s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry"}}
	}))
	pod := webPod(nil)
	if err := admit(t, newPlugin(objects), pod); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" {
		t.Errorf("account %q", pod.Spec.ServiceAccountName)
	}
	if len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "registry" {
		t.Errorf("pull secrets %+v", pod.Spec.ImagePullSecrets)
	}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != TokenMountPath || c.VolumeMounts[0].Name != "kube-api-access-abcde" || !c.VolumeMounts[0].ReadOnly {
			t.Errorf("%s mounts %+v", c.Name, c.VolumeMounts)
		}
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].Projected == nil {
		t.Fatalf("volumes %+v", pod.Spec.Volumes)
	}
	src := pod.Spec.Volumes[0].Projected.Sources
	if *src[0].ServiceAccountToken.ExpirationSeconds != 3607 || src[1].ConfigMap.Name != "kube-root-ca.crt" || src[2].DownwardAPI.Items[0].Path != "namespace" {
		t.Errorf("sources %+v", src)
	}
}

func TestAutomountIsDecidedByThePodThenTheAccount(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name       string
		pod, acct  *bool
		wantVolume bool
	}{
		{"neither says: mounted", nil, nil, true},
		{"the account says no: not mounted", nil, &no, false},
		{"the pod says yes over the account's no: mounted", &yes, &no, true},
		{"the pod says no: not mounted", &no, &yes, false},
	}
	for _, c := range cases {
		objects := admissiontest.New().Add("serviceaccounts", sa("default", func(s *corev1.ServiceAccount) { s.AutomountServiceAccountToken = c.acct }))
		pod := webPod(func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = c.pod })
		if err := admit(t, newPlugin(objects), pod); err != nil {
			t.Fatal(err)
		}
		if got := len(pod.Spec.Volumes) == 1; got != c.wantVolume {
			t.Errorf("%s: volume %v", c.name, got)
		}
	}
}

func TestAContainerWithSomethingAtTheTokenPathKeepsIt(t *testing.T) {
	objects := admissiontest.New().Add("serviceaccounts", sa("default", nil))
	pod := webPod(func(p *corev1.Pod) {
		p.Spec.InitContainers = nil
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "mine", MountPath: TokenMountPath}}
	})
	if err := admit(t, newPlugin(objects), pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Volumes) != 0 || len(pod.Spec.Containers[0].VolumeMounts) != 1 {
		t.Errorf("spec %+v", pod.Spec)
	}
}

func TestRefusals(t *testing.T) {
	objects := admissiontest.New().Add("serviceaccounts",
		sa("default", nil),
		sa("strict", func(s *corev1.ServiceAccount) {
			s.Annotations = map[string]string{EnforceMountableSecretsAnnotation: "true"}
			s.Secrets = []corev1.ObjectReference{{Name: "allowed"}}
		}))
	mirror := func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} }
	cases := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"an account that does not exist", webPod(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "ghost" }),
			`pods "web" is forbidden: error looking up service account app/ghost: serviceaccount "ghost" not found`},
		{"a secret the strict account does not list", webPod(func(p *corev1.Pod) {
			p.Spec.ServiceAccountName = "strict"
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "other"}}}}
		}), `pods "web" is forbidden: volume with secret.secretName="other" is not allowed because service account strict does not reference that secret`},
		{"an env secret the strict account does not list", webPod(func(p *corev1.Pod) {
			p.Spec.ServiceAccountName = "strict"
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "other"}, Key: "pw"}}}}
		}), `pods "web" is forbidden: container app with envVar PW referencing secret.secretName="other" is not allowed because service account strict does not reference that secret`},
		{"a listed secret is fine", webPod(func(p *corev1.Pod) {
			p.Spec.ServiceAccountName = "strict"
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "allowed"}}}}
		}), ""},
		{"a mirror pod naming an account", webPod(func(p *corev1.Pod) { mirror(p); p.Spec.ServiceAccountName = "default" }),
			`pods "web" is forbidden: a mirror pod may not reference service accounts`},
		{"a mirror pod with a secret", webPod(func(p *corev1.Pod) {
			mirror(p)
			p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry"}}
		}), `pods "web" is forbidden: a mirror pod may not reference secrets`},
		{"a mirror pod is left as its node wrote it", webPod(mirror), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ""
			if err := admit(t, newPlugin(objects), c.pod); err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("got %q\nwant %q", got, c.want)
			}
			if strings.Contains(c.name, "left as") && (c.pod.Spec.ServiceAccountName != "" || len(c.pod.Spec.Volumes) != 0) {
				t.Errorf("mirror pod changed: %+v", c.pod.Spec)
			}
		})
	}
}

// appears makes the default account exist after a few reads, as the
// controller creates it just after its namespace.
type appears struct {
	*admissiontest.Objects
	reads int
}

func (a *appears) Latest(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	a.reads++
	if a.reads == 3 {
		a.Objects.Add("serviceaccounts", sa("default", nil))
	}
	return a.Objects.Latest(ctx, gvr, namespace, name)
}

func TestTheDefaultAccountIsWaitedFor(t *testing.T) {
	objects := &appears{Objects: admissiontest.New()}
	p := New(objects)
	p.sleep = func(context.Context, time.Duration) {}
	if err := admit(t, p, webPod(nil)); err != nil {
		t.Fatalf("the default account appeared on the third look: %v", err)
	}
}
