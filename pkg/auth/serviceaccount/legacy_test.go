package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/minik8s/minik8s/pkg/auth"
)

func newTestSigner(t *testing.T) *Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key, Issuer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func getter[T any](objs map[string]T) Getter[T] {
	return func(_ context.Context, ns, name string) (T, error) {
		if o, ok := objs[ns+"/"+name]; ok {
			return o, nil
		}
		var zero T
		return zero, apierrors.NewNotFound(schema.GroupResource{}, name)
	}
}

func TestLegacyTokensAreCheckedAgainstTheirSecret(t *testing.T) {
	signer := newTestSigner(t)
	other := newTestSigner(t)
	sa := Ref{Name: "app", UID: "sa-uid"}
	token, err := signer.IssueLegacy("ns", sa, "app-token")
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.IssueLegacy("ns", sa, "app-token")
	secret := func(name string, labels map[string]string, tok string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name + "-uid"), Labels: labels},
			Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{"token": []byte(tok)}}
	}
	account := func(uid string, secrets ...string) *corev1.ServiceAccount {
		a := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", UID: types.UID(uid)}}
		for _, s := range secrets {
			a.Secrets = append(a.Secrets, corev1.ObjectReference{Name: s})
		}
		return a
	}
	deleted := secret("app-token", nil, token)
	deleted.DeletionTimestamp = &metav1.Time{Time: time.Now()}

	cases := []struct {
		name     string
		token    string
		secret   *corev1.Secret
		sa       *corev1.ServiceAccount
		ok       bool
		err      string // part of the refusal's reason, "" for a silent refusal
		warnings []string
		used     bool // the last-used label is written
	}{
		{name: "an auto-generated token is accepted with upstream's warning", token: token,
			secret: secret("app-token", nil, token), sa: account("sa-uid", "app-token"),
			ok: true, warnings: []string{LegacyTokenWarning}, used: true},
		{name: "a token in a secret made by hand is accepted without a warning", token: token,
			secret: secret("app-token", nil, token), sa: account("sa-uid"), ok: true, used: true},
		{name: "a token whose secret is labelled invalid is refused with upstream's reason, and its use recorded", token: token,
			secret: secret("app-token", map[string]string{InvalidSinceLabelKey: "2026-01-01"}, token), sa: account("sa-uid", "app-token"),
			err:  "the token in secret ns/app-token for service account ns/app has been marked invalid. Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the 'kubernetes.io/legacy-token-invalid-since' label from the secret to temporarily allow use of this token",
			used: true},
		{name: "a token whose secret is gone is refused", token: token, sa: account("sa-uid"), err: "Token has been invalidated"},
		{name: "a token whose secret is being deleted is refused", token: token, secret: deleted, sa: account("sa-uid"), err: "Token has been invalidated"},
		{name: "a token its secret no longer holds is refused", token: token,
			secret: secret("app-token", nil, "another"), sa: account("sa-uid"), err: "Token does not match server's copy"},
		{name: "a token of a recreated service account is refused", token: token,
			secret: secret("app-token", nil, token), sa: account("new-uid"), err: "ServiceAccount UID (new-uid) does not match claim (sa-uid)"},
		{name: "a token signed by another key is not this authenticator's", token: foreign,
			secret: secret("app-token", nil, foreign), sa: account("sa-uid")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			secrets := map[string]*corev1.Secret{}
			if tc.secret != nil {
				secrets["ns/"+tc.secret.Name] = tc.secret
			}
			var patched []string
			tracker, err := NewLastUsedTracker(LastUsedConfig{Patch: func(_ context.Context, ns, name string, p []byte) error {
				patched = append(patched, ns+"/"+name+" "+string(p))
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			a := &Authenticator{Signer: signer, Secrets: getter(secrets),
				ServiceAccounts: getter(map[string]*corev1.ServiceAccount{"ns/app": tc.sa}), LastUsed: tracker}
			notes := &auth.Notes{}
			u, ok, err := a.AuthenticateToken(auth.WithNotes(context.Background(), notes), tc.token)
			if ok != tc.ok {
				t.Fatalf("authenticated = %v (%v), want %v", ok, err, tc.ok)
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error = %v, want one saying %q", err, tc.err)
			}
			if ok {
				want := &auth.User{Name: "system:serviceaccount:ns:app", UID: "sa-uid", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns"}}
				if !reflect.DeepEqual(u, want) {
					t.Errorf("user = %+v, want %+v", u, want)
				}
			}
			if got := notes.Warnings(); !reflect.DeepEqual(got, tc.warnings) {
				t.Errorf("warnings = %q, want %q", got, tc.warnings)
			}
			// The write happens off the request's path: run the writer now.
			ctx, cancel := context.WithCancel(context.Background())
			drain(ctx, tracker)
			cancel()
			if wrote := len(patched) == 1; wrote != tc.used {
				t.Errorf("last-used writes = %q, want a write: %v", patched, tc.used)
			}
		})
	}
}

// drain writes what the tracker has queued.
func drain(ctx context.Context, t *LastUsedTracker) {
	for {
		select {
		case u := <-t.queue:
			t.write(ctx, u)
		default:
			return
		}
	}
}

func TestLegacyClaimsAreUpstreams(t *testing.T) {
	signer := newTestSigner(t)
	token, err := signer.IssueLegacy("ns", Ref{Name: "app", UID: "sa-uid"}, "app-token")
	if err != nil {
		t.Fatal(err)
	}
	c, err := signer.VerifyLegacy(token)
	if err != nil {
		t.Fatal(err)
	}
	want := &LegacyClaims{Issuer: "kubernetes/serviceaccount", Subject: "system:serviceaccount:ns:app", Namespace: "ns",
		SecretName: "app-token", ServiceAccountName: "app", ServiceAccountUID: "sa-uid"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("claims = %+v, want %+v", c, want)
	}
	if !claimsLegacyIssuer(token) {
		t.Error("a secret-based token is not recognised as one")
	}
	bound, _, _ := signer.Issue("ns", Ref{Name: "app", UID: "sa-uid"}, Binding{}, nil, time.Hour, time.Now())
	if claimsLegacyIssuer(bound) {
		t.Error("a bound token is taken for a secret-based one")
	}
	if _, err := signer.Verify(token, time.Now()); err == nil {
		t.Error("a secret-based token passes as a bound one")
	}
}

func TestLastUsedIsWrittenOnceADay(t *testing.T) {
	day := time.Date(2026, 12, 8, 23, 0, 0, 0, time.UTC)
	clock := day
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app-token", UID: "secret-uid"},
		Type: corev1.SecretTypeServiceAccountToken}
	client := fake.NewSimpleClientset(secret)
	tracker, err := NewLastUsedTracker(LastUsedConfig{Now: func() time.Time { return clock },
		Patch: func(ctx context.Context, ns, name string, p []byte) error {
			_, err := client.CoreV1().Secrets(ns).Patch(ctx, name, types.MergePatchType, p, metav1.PatchOptions{})
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	label := func() string {
		s, err := client.CoreV1().Secrets("ns").Get(ctx, "app-token", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Labels[LastUsedLabelKey]
	}
	patches := func() int {
		n := 0
		for _, a := range client.Actions() {
			if a.GetVerb() == "patch" {
				n++
			}
		}
		return n
	}

	// Many uses of a token read before the label was written: one write.
	for range 5 {
		tracker.Used(secret)
	}
	drain(ctx, tracker)
	if got := label(); got != "2026-12-08" || patches() != 1 {
		t.Fatalf("label %q after %d patches, want 2026-12-08 after 1", got, patches())
	}
	// A secret that says today, or tomorrow (another server ahead), is left.
	for _, l := range []string{"2026-12-08", "2026-12-09"} {
		s := secret.DeepCopy()
		s.UID = "other-uid"
		s.Labels = map[string]string{LastUsedLabelKey: l}
		tracker.Used(s)
	}
	drain(ctx, tracker)
	if patches() != 1 {
		t.Fatalf("%d patches, want the labels of today and tomorrow left alone", patches())
	}
	// The next day the label moves on.
	clock = day.Add(2 * time.Hour)
	tracker.Used(secret)
	drain(ctx, tracker)
	if got := label(); got != "2026-12-09" || patches() != 2 {
		t.Fatalf("label %q after %d patches, want 2026-12-09 after 2", got, patches())
	}
}

func TestLastUsedIsTriedAgainAfterAFailedWrite(t *testing.T) {
	fail := true
	writes := 0
	tracker, err := NewLastUsedTracker(LastUsedConfig{Patch: func(context.Context, string, string, []byte) error {
		writes++
		if fail {
			return apierrors.NewServiceUnavailable("etcd is away")
		}
		return nil
	}, Backlog: 1})
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", UID: "a-uid"}}
	ctx := context.Background()
	tracker.Used(secret)
	drain(ctx, tracker)
	fail = false
	tracker.Used(secret)
	drain(ctx, tracker)
	tracker.Used(secret)
	drain(ctx, tracker)
	if writes != 2 {
		t.Fatalf("%d writes, want the failed one and one more", writes)
	}
	// A full backlog drops the use without blocking; a later use writes it.
	b := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b", UID: "b-uid"}}
	c := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c", UID: "c-uid"}}
	tracker.Used(b)
	tracker.Used(c) // dropped: the backlog holds one
	drain(ctx, tracker)
	tracker.Used(c)
	drain(ctx, tracker)
	if writes != 4 {
		t.Fatalf("%d writes, want b's and c's too", writes)
	}
}
