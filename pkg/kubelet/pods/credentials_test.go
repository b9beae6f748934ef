package pods

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"
)

// fakeSecrets serves secrets of namespace "ns" and counts reads.
type fakeSecrets struct {
	byName map[string]*corev1.Secret
	reads  []string
}

func (f *fakeSecrets) get(_ context.Context, namespace, name string) (*corev1.Secret, error) {
	f.reads = append(f.reads, namespace+"/"+name)
	if s, ok := f.byName[name]; ok && namespace == "ns" {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func newFakePullSecrets(secrets ...*corev1.Secret) (*PullSecrets, *fakeSecrets, *record.FakeRecorder) {
	f := &fakeSecrets{byName: map[string]*corev1.Secret{}}
	for _, s := range secrets {
		f.byName[s.Name] = s
	}
	rec := record.NewFakeRecorder(10)
	p := NewPullSecrets(nil, rec, nil)
	p.get = f.get
	return p, f, rec
}

// dockerConfigJSON is a kubernetes.io/dockerconfigjson secret with the given
// "auths" entries (registry key to JSON object).
func dockerConfigJSON(name string, auths map[string]string) *corev1.Secret {
	var parts []string
	for k, v := range auths {
		parts = append(parts, fmt.Sprintf("%q: %s", k, v))
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths": {` + strings.Join(parts, ", ") + `}}`)},
	}
}

func userPass(user, pass string) string {
	return fmt.Sprintf(`{"username": %q, "password": %q}`, user, pass)
}

func podWithSecrets(names ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	for _, n := range names {
		p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: n})
	}
	return p
}

// users returns the user names of the credentials For gives, in order.
func users(t *testing.T, p *PullSecrets, pod *corev1.Pod, image string) []string {
	t.Helper()
	auths, err := p.For(context.Background(), pod, image)
	if err != nil {
		t.Fatalf("For(%s): %v", image, err)
	}
	var out []string
	for _, a := range auths {
		out = append(out, a.Username+":"+a.Password)
	}
	return out
}

func TestRegistryKeysMatchImagesAsTheKubeletKeyringDoes(t *testing.T) {
	for _, tc := range []struct {
		key, image string
		match      bool
	}{
		{"127.0.0.1:5000", "127.0.0.1:5000/e2e/busybox:1", true},
		{"127.0.0.1:5000", "127.0.0.1:5001/e2e/busybox:1", false},
		{"127.0.0.1:5000", "127.0.0.1/e2e/busybox:1", false},
		{"127.0.0.1", "127.0.0.1:5000/e2e/busybox:1", false},
		{"http://127.0.0.1:5000", "127.0.0.1:5000/app", true},
		{"https://127.0.0.1:5000/v2/", "127.0.0.1:5000/app", true},
		{"registry.example.com", "registry.example.com/team/app:v1", true},
		{"registry.example.com", "other.example.com/team/app:v1", false},
		{"registry.example.com/team", "registry.example.com/team/app", true},
		{"registry.example.com/team", "registry.example.com/other/app", false},
		{"https://registry.example.com/v1/team", "registry.example.com/team/app", true},
		{"*.example.com", "registry.example.com/app", true},
		{"*.example.com", "example.com/app", false},
		{"*.example.com", "a.registry.example.com/app", false},
		{"*.*.com", "registry.example.com/app", true},
		{"registry.*.com", "registry.example.com/app", true},
		{"*.example.com:5000", "registry.example.com:5000/app", true},
		{"*.example.com:5000", "registry.example.com/app", false},
		{"registry.example.com", "registry.example.com/app@sha256:" + strings.Repeat("a", 64), true},
		// Docker Hub, by its name and both of its legacy aliases.
		{"docker.io", "busybox", true},
		{"docker.io", "docker.io/library/busybox:1.36", true},
		{"docker.io/library", "busybox", true},
		{"docker.io/someone", "busybox", false},
		{"index.docker.io", "busybox", true},
		{"index.docker.io", "someone/app", true},
		{"https://index.docker.io/v1/", "busybox:1.36", true},
		{"https://index.docker.io/v1/", "index.docker.io/someone/app", true},
		{"https://index.docker.io/v1/", "quay.io/someone/app", false},
		{"docker.io", "quay.io/someone/app", false},
	} {
		t.Run(tc.key+" "+tc.image, func(t *testing.T) {
			p, _, _ := newFakePullSecrets(dockerConfigJSON("s", map[string]string{tc.key: userPass("u", "p")}))
			got := users(t, p, podWithSecrets("s"), tc.image)
			if match := len(got) > 0; match != tc.match {
				t.Errorf("key %q for image %q: got %v, want match %v", tc.key, tc.image, got, tc.match)
			}
		})
	}
}

// Longer paths under a host are tried first, and every matching key is tried.
func TestMoreSpecificKeysComeFirst(t *testing.T) {
	p, _, _ := newFakePullSecrets(
		dockerConfigJSON("a", map[string]string{"registry.example.com": userPass("host", "1")}),
		dockerConfigJSON("b", map[string]string{"registry.example.com/team": userPass("team", "2"), "other.example.com": userPass("other", "3")}),
	)
	got := users(t, p, podWithSecrets("a", "b"), "registry.example.com/team/app:v1")
	if want := []string{"team:2", "host:1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("credentials %v, want %v", got, want)
	}
}

// Docker Hub's index.docker.io entry is a fallback: a key that matches an image
// on Docker Hub directly wins over it.
func TestDockerHubFallbackOnlyWhenNothingElseMatches(t *testing.T) {
	p, _, _ := newFakePullSecrets(dockerConfigJSON("s", map[string]string{
		"https://index.docker.io/v1/": userPass("hub", "1"), "docker.io/library": userPass("library", "2"),
	}))
	pod := podWithSecrets("s")
	if got := users(t, p, pod, "busybox"); fmt.Sprint(got) != "[library:2]" {
		t.Errorf("busybox: %v, want only the docker.io/library entry", got)
	}
	if got := users(t, p, pod, "someone/app"); fmt.Sprint(got) != "[hub:1]" {
		t.Errorf("someone/app: %v, want the index.docker.io entry", got)
	}
}

func TestAuthFieldsAndSecretTypes(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	raw := func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }
	cfgJSON := dockerConfigJSON("json", map[string]string{
		// auth wins over username and password; a password may hold colons
		"reg.example.com": fmt.Sprintf(`{"username": "ignored", "password": "ignored", "auth": %q}`, b64("alice:pa:ss")),
		// unpadded base64, as some tools write it
		"raw.example.com": fmt.Sprintf(`{"auth": %q}`, raw("bob:x")),
	})
	cfg := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"},
		Type:       corev1.SecretTypeDockercfg,
		Data:       map[string][]byte{corev1.DockerConfigKey: []byte(`{"legacy.example.com": {"auth": "` + b64("carol:y") + `", "email": "c@example.com"}}`)},
	}
	// The right key in a secret of another type is not a pull secret.
	opaque := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "opaque", Namespace: "ns"},
		Type:       corev1.SecretTypeOpaque,
		Data:       cfgJSON.Data,
	}
	p, _, _ := newFakePullSecrets(cfgJSON, cfg, opaque)
	for image, want := range map[string]string{
		"reg.example.com/app":    "[alice:pa:ss]",
		"raw.example.com/app":    "[bob:x]",
		"legacy.example.com/app": "[carol:y]",
	} {
		if got := users(t, p, podWithSecrets("json", "cfg"), image); fmt.Sprint(got) != want {
			t.Errorf("%s: %v, want %s", image, got, want)
		}
	}
	if got := users(t, p, podWithSecrets("opaque"), "reg.example.com/app"); len(got) != 0 {
		t.Errorf("an Opaque secret gave credentials %v", got)
	}
}

func TestUnparsableSecretsFailThePull(t *testing.T) {
	for name, data := range map[string]string{
		"bad json":       `{"auths": [`,
		"bad base64":     `{"auths": {"reg.example.com": {"auth": "!!!"}}}`,
		"auth no colon":  `{"auths": {"reg.example.com": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("nocolon")) + `"}}}`,
		"auths not maps": `{"auths": {"reg.example.com": "x"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "ns"}, Type: corev1.SecretTypeDockerConfigJson,
				Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(data)}}
			p, _, _ := newFakePullSecrets(s)
			_, err := p.For(context.Background(), podWithSecrets("bad"), "reg.example.com/app")
			if err == nil || !strings.Contains(err.Error(), "image pull secret bad") {
				t.Errorf("err = %v, want one naming the secret", err)
			}
		})
	}
}

// A secret that is missing is skipped with a warning event; the others are used.
func TestMissingSecretsAreReportedAndSkipped(t *testing.T) {
	p, f, rec := newFakePullSecrets(dockerConfigJSON("good", map[string]string{"reg.example.com": userPass("u", "p")}))
	got := users(t, p, podWithSecrets("gone", "", "good", "also-gone"), "reg.example.com/app")
	if fmt.Sprint(got) != "[u:p]" {
		t.Errorf("credentials %v, want the good secret's", got)
	}
	if want := "[ns/gone ns/good ns/also-gone]"; fmt.Sprint(f.reads) != want {
		t.Errorf("read %v, want %s (an empty name is not read)", f.reads, want)
	}
	select {
	case e := <-rec.Events:
		want := "Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (gone, also-gone); attempting to pull the image may not succeed."
		if e != want {
			t.Errorf("event %q, want %q", e, want)
		}
	default:
		t.Error("no event for the missing secrets")
	}
}

func TestNoPullSecretsReadsNothing(t *testing.T) {
	p, f, rec := newFakePullSecrets()
	if got := users(t, p, podWithSecrets(), "reg.example.com/app"); len(got) != 0 {
		t.Errorf("credentials %v without pull secrets", got)
	}
	if len(f.reads) != 0 || len(rec.Events) != 0 {
		t.Errorf("reads %v, %d events, want none", f.reads, len(rec.Events))
	}
}

func TestAnInvalidImageNameIsAnError(t *testing.T) {
	p, _, _ := newFakePullSecrets(dockerConfigJSON("s", map[string]string{"reg.example.com": userPass("u", "p")}))
	if _, err := p.For(context.Background(), podWithSecrets("s"), "reg.example.com/UPPER/app"); err == nil {
		t.Error("no error for an invalid image name")
	}
}
