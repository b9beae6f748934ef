package legacytokencleaner

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
)

var now = time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)

const period = 30 * 24 * time.Hour

func tracking(since string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: serviceaccount.TrackingConfigMapName},
		Data: map[string]string{serviceaccount.TrackingConfigMapDataKey: since}}
}

func account() *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", UID: "sa-uid"},
		Secrets: []corev1.ObjectReference{{Name: "app-token"}}}
}

func tokenSecret(labels map[string]string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-token", UID: "secret-uid", ResourceVersion: "7",
		CreationTimestamp: metav1.NewTime(now.AddDate(-1, 0, 0)), Labels: labels,
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "app", corev1.ServiceAccountUIDKey: "sa-uid"}},
		Type: corev1.SecretTypeServiceAccountToken}
}

// fixture builds the controller over fake informers filled with objs (the
// ConfigMap is only in the fake API, which the controller asks).
func fixture(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	secrets := NewSecretInformer(client, 0)
	c, err := New(Config{Client: client, ServiceAccounts: factory.Core().V1().ServiceAccounts(), Secrets: secrets,
		Pods: factory.Core().V1().Pods(), CleanUpPeriod: period, Clock: clocktesting.NewFakeClock(now), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Secret:
			_ = secrets.GetIndexer().Add(o)
		case *corev1.ServiceAccount:
			_ = factory.Core().V1().ServiceAccounts().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			_ = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
	}
	client.ClearActions()
	return c, client
}

// writes lists the writes the sync made, with what they carried.
func writes(client *fake.Clientset) []string {
	var out []string
	for _, a := range client.Actions() {
		switch a := a.(type) {
		case clienttesting.PatchAction:
			out = append(out, "patch "+a.GetName()+" "+string(a.GetPatch()))
		case clienttesting.DeleteAction:
			rv := ""
			if p := a.GetDeleteOptions().Preconditions; p != nil && p.ResourceVersion != nil {
				rv = *p.ResourceVersion
			}
			out = append(out, "delete "+a.GetName()+" rv="+rv)
		}
	}
	return out
}

func TestSyncWritesWhatTheDecisionSays(t *testing.T) {
	longAgo := now.AddDate(-1, 0, 0).Format(serviceaccount.DateFormat)
	mountingPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "t", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "app-token"}}}}}}
	otherSA := account()
	otherSA.UID = "recreated"
	cases := []struct {
		name string
		objs []runtime.Object
		want []string
	}{
		{name: "an unused auto-generated token is labelled invalid since today, with its uid",
			objs: []runtime.Object{tracking(longAgo), account(), tokenSecret(nil)},
			want: []string{`patch app-token {"metadata":{"labels":{"kubernetes.io/legacy-token-invalid-since":"2026-12-08"},"uid":"secret-uid"}}`}},
		{name: "a token invalid for longer than the period is deleted if unchanged since it was read",
			objs: []runtime.Object{tracking(longAgo), account(), tokenSecret(map[string]string{serviceaccount.InvalidSinceLabelKey: "2026-10-01"})},
			want: []string{"delete app-token rv=7"}},
		{name: "a token a pod mounts is left alone",
			objs: []runtime.Object{tracking(longAgo), account(), tokenSecret(nil), mountingPod}},
		{name: "a token of a service account recreated since is left alone",
			objs: []runtime.Object{tracking(longAgo), otherSA, tokenSecret(nil)}},
		{name: "nothing is written while tracking is younger than the period",
			objs: []runtime.Object{tracking("2026-12-01"), account(), tokenSecret(nil)}},
		{name: "nothing is written without the tracking ConfigMap",
			objs: []runtime.Object{account(), tokenSecret(nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, client := fixture(t, tc.objs...)
			if err := c.Sync(context.Background(), "ns/app-token"); err != nil {
				t.Fatal(err)
			}
			if got := writes(client); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestSecretInformerKeepsNoTokenData(t *testing.T) {
	client := fake.NewSimpleClientset()
	inf := NewSecretInformer(client, 0)
	s := tokenSecret(nil)
	s.Data = map[string][]byte{"token": []byte("secret")}
	s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := client.CoreV1().Secrets("ns").Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	go inf.RunWithContext(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if obj, ok, _ := inf.GetIndexer().GetByKey("ns/app-token"); ok {
			got := obj.(*corev1.Secret)
			if got.Data != nil || got.ManagedFields != nil {
				t.Fatalf("cached secret keeps data %v, managed fields %v", got.Data, got.ManagedFields)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the secret never reached the cache")
}
