package serviceaccounttoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
)

func signer(t *testing.T) *serviceaccount.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := serviceaccount.NewSigner(key, serviceaccount.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture builds the controller over fake informers filled with objs.
func fixture(t *testing.T, sign *serviceaccount.Signer, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	secrets := NewSecretInformer(client, 0)
	c, err := New(Config{Client: client, ServiceAccounts: factory.Core().V1().ServiceAccounts(), Secrets: secrets,
		Signer: sign, RootCA: ca, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Secret:
			_ = secrets.GetIndexer().Add(o)
		case *corev1.ServiceAccount:
			_ = factory.Core().V1().ServiceAccounts().Informer().GetIndexer().Add(o)
		}
	}
	client.ClearActions()
	return c, client
}

func writes(client *fake.Clientset) []clienttesting.Action {
	var out []clienttesting.Action
	for _, a := range client.Actions() {
		if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			out = append(out, a)
		}
	}
	return out
}

func TestSyncFillsAnEmptyTokenSecret(t *testing.T) {
	sign := signer(t)
	c, client := fixture(t, sign, account(), tokenSecret(nil))
	if err := c.Sync(context.Background(), "ns/app-token"); err != nil {
		t.Fatal(err)
	}
	s, err := client.CoreV1().Secrets("ns").Get(context.Background(), "app-token", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data[corev1.ServiceAccountRootCAKey]) != string(ca) || string(s.Data[corev1.ServiceAccountNamespaceKey]) != "ns" {
		t.Errorf("ca.crt %q namespace %q", s.Data[corev1.ServiceAccountRootCAKey], s.Data[corev1.ServiceAccountNamespaceKey])
	}
	if s.Annotations[corev1.ServiceAccountUIDKey] != "sa-uid" {
		t.Errorf("uid annotation %q, want sa-uid", s.Annotations[corev1.ServiceAccountUIDKey])
	}
	claims, err := sign.VerifyLegacy(string(s.Data[corev1.ServiceAccountTokenKey]))
	if err != nil {
		t.Fatalf("the token does not verify: %v", err)
	}
	want := serviceaccount.LegacyClaims{Issuer: serviceaccount.LegacyIssuer, Subject: "system:serviceaccount:ns:app", Namespace: "ns",
		SecretName: "app-token", ServiceAccountName: "app", ServiceAccountUID: "sa-uid"}
	if *claims != want {
		t.Errorf("claims %+v, want %+v", *claims, want)
	}
}

func TestSyncLeavesAFilledSecretAlone(t *testing.T) {
	s := tokenSecret(filled())
	s.Annotations[corev1.ServiceAccountUIDKey] = "sa-uid"
	c, client := fixture(t, signer(t), account(), s)
	if err := c.Sync(context.Background(), "ns/app-token"); err != nil {
		t.Fatal(err)
	}
	if w := writes(client); len(w) != 0 {
		t.Errorf("writes %v, want none", w)
	}
}

func TestSyncDeletesTheSecretOfAMissingAccount(t *testing.T) {
	c, client := fixture(t, signer(t), tokenSecret(filled()))
	if err := c.Sync(context.Background(), "ns/app-token"); err != nil {
		t.Fatal(err)
	}
	w := writes(client)
	if len(w) != 1 || w[0].GetVerb() != "delete" {
		t.Fatalf("writes %v, want one delete", w)
	}
	if p := w[0].(clienttesting.DeleteAction).GetDeleteOptions().Preconditions; p == nil || p.UID == nil || *p.UID != "secret-uid" {
		t.Errorf("delete preconditions %+v, want the secret's UID", p)
	}
}

func TestSyncDeletesTheSecretOfAnAccountMadeAgain(t *testing.T) {
	s := tokenSecret(filled())
	s.Annotations[corev1.ServiceAccountUIDKey] = "old-uid"
	c, client := fixture(t, signer(t), account(), s)
	if err := c.Sync(context.Background(), "ns/app-token"); err != nil {
		t.Fatal(err)
	}
	if w := writes(client); len(w) != 1 || w[0].GetVerb() != "delete" {
		t.Fatalf("writes %v, want one delete", w)
	}
}

// An account the cache has not seen yet is asked for: its Secret must not be
// deleted because the informer is slow.
func TestSyncAsksTheAPIOnACacheMiss(t *testing.T) {
	sign := signer(t)
	c, client := fixture(t, sign, tokenSecret(nil))
	if _, err := client.CoreV1().ServiceAccounts("ns").Create(context.Background(), account(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	client.ClearActions()
	if err := c.Sync(context.Background(), "ns/app-token"); err != nil {
		t.Fatal(err)
	}
	if w := writes(client); len(w) != 1 || w[0].GetVerb() != "update" {
		t.Fatalf("writes %v, want one update", w)
	}
}

func TestConfigValidate(t *testing.T) {
	client := fake.NewSimpleClientset()
	factory := informers.NewSharedInformerFactory(client, 0)
	cfg := Config{Client: client, ServiceAccounts: factory.Core().V1().ServiceAccounts(), Secrets: NewSecretInformer(client, 0), Workers: 1}
	if err := cfg.Validate(); err == nil {
		t.Error("a config without a signer is valid")
	}
}
