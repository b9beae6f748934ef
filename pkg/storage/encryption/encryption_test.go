package encryption

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

// config renders a one-list configuration for secrets with the given providers.
func config(providers ...string) []byte {
	return []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" +
		strings.Join(providers, ""))
}

func provider(name string, keys ...string) string {
	s := "  - " + name + ":\n      keys:\n"
	for _, k := range keys {
		n, secret, _ := strings.Cut(k, "=")
		s += fmt.Sprintf("      - name: %s\n        secret: %s\n", n, secret)
	}
	return s
}

const identity = "  - identity: {}\n"

var secrets = schema.GroupResource{Resource: "secrets"}

func chainOf(t *testing.T, data []byte) *Chain {
	t.Helper()
	c, err := Parse(data)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	tr := c.For(secrets)
	if tr == nil {
		t.Fatal("no transformer for secrets")
	}
	return tr.(*Chain)
}

func TestEachProviderRoundTripsWithItsPrefixAndRefusesAWrongKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{{"aescbc", 32}, {"aesgcm", 16}, {"aesgcm", 32}, {"secretbox", 32}} {
		t.Run(fmt.Sprintf("%s-%d", tc.name, tc.size), func(t *testing.T) {
			ch := chainOf(t, config(provider(tc.name, "k1="+b64(tc.size, 1))))
			plain := []byte("k8s\x00 a secret value that spans more than one block")
			stored, err := ch.ToStorage(plain, "/registry/secrets/ns/a")
			if err != nil {
				t.Fatal(err)
			}
			if want := "k8s:enc:" + tc.name + ":v1:k1:"; !bytes.HasPrefix(stored, []byte(want)) {
				t.Fatalf("stored value starts %q, want %q", stored[:20], want)
			}
			if bytes.Contains(stored, []byte("secret value")) {
				t.Fatal("the plaintext shows in the stored value")
			}
			got, stale, err := ch.FromStorage(stored, "/registry/secrets/ns/a")
			if err != nil || stale || !bytes.Equal(got, plain) {
				t.Fatalf("read back %q stale=%v err=%v", got, stale, err)
			}
			again, _ := ch.ToStorage(plain, "/registry/secrets/ns/a")
			if bytes.Equal(again, stored) {
				t.Fatal("two encryptions of one value are equal: the nonce or IV is not random")
			}

			wrong := chainOf(t, config(provider(tc.name, "k1="+b64(tc.size, 2))))
			if got, _, err := wrong.FromStorage(stored, "/registry/secrets/ns/a"); err == nil && bytes.Equal(got, plain) {
				t.Fatal("a different key with the same name decrypted the value")
			}
			unknown := chainOf(t, config(provider(tc.name, "k2="+b64(tc.size, 1))))
			if _, _, err := unknown.FromStorage(stored, "/registry/secrets/ns/a"); err == nil || !strings.Contains(err.Error(), "no matching prefix") {
				t.Fatalf("reading with an unknown key name: %v, want no matching prefix", err)
			}
		})
	}
}

func TestAESGCMBindsTheValueToItsKey(t *testing.T) {
	ch := chainOf(t, config(provider("aesgcm", "k1="+b64(32, 1))))
	stored, _ := ch.ToStorage([]byte("v"), "/registry/secrets/ns/a")
	if _, _, err := ch.FromStorage(stored, "/registry/secrets/ns/b"); err == nil {
		t.Fatal("a value copied to another etcd key decrypted")
	}
}

func TestRotationReadsOldKeysAsStaleAndWritesWithTheFirst(t *testing.T) {
	old := chainOf(t, config(provider("aescbc", "key1="+b64(32, 1))))
	storedOld, _ := old.ToStorage([]byte("v1"), "k")

	// Step 1 of upstream's procedure: the new key is listed second, so every
	// server can read it before any writes with it.
	both := chainOf(t, config(provider("aescbc", "key1="+b64(32, 1), "key2="+b64(32, 2))))
	if s, _ := both.ToStorage([]byte("x"), "k"); !bytes.HasPrefix(s, []byte("k8s:enc:aescbc:v1:key1:")) {
		t.Fatalf("with key1 first, writes use %q", s[:23])
	}
	// Step 2: the new key first.
	rotated := chainOf(t, config(provider("aescbc", "key2="+b64(32, 2), "key1="+b64(32, 1))))
	got, stale, err := rotated.FromStorage(storedOld, "k")
	if err != nil || string(got) != "v1" || !stale {
		t.Fatalf("old value read as %q stale=%v err=%v; want v1, stale", got, stale, err)
	}
	storedNew, _ := rotated.ToStorage([]byte("v2"), "k")
	if !bytes.HasPrefix(storedNew, []byte("k8s:enc:aescbc:v1:key2:")) {
		t.Fatalf("writes use %q, want key2", storedNew[:23])
	}
	if _, stale, _ := rotated.FromStorage(storedNew, "k"); stale {
		t.Fatal("a value written with the current key reads as stale")
	}
	// Step 3: the old key removed; values not rewritten no longer read.
	onlyNew := chainOf(t, config(provider("aescbc", "key2="+b64(32, 2))))
	if _, _, err := onlyNew.FromStorage(storedOld, "k"); err == nil {
		t.Fatal("a value under a removed key still read")
	}
}

func TestIdentityReadsPlaintextAndNeverEncryptedData(t *testing.T) {
	plain := []byte("k8s\x00\x0a\x09v1\x12\x06Secret")
	withIdentity := chainOf(t, config(provider("secretbox", "k="+b64(32, 3)), identity))
	got, stale, err := withIdentity.FromStorage(plain, "k")
	if err != nil || !bytes.Equal(got, plain) || !stale {
		t.Fatalf("plaintext read as %q stale=%v err=%v; want it as is, stale", got, stale, err)
	}
	without := chainOf(t, config(provider("secretbox", "k="+b64(32, 3))))
	if _, _, err := without.FromStorage(plain, "k"); err == nil {
		t.Fatal("plaintext read without identity configured")
	}
	identityFirst := chainOf(t, config(identity, provider("secretbox", "k="+b64(32, 3))))
	if s, _ := identityFirst.ToStorage(plain, "k"); !bytes.Equal(s, plain) {
		t.Fatal("identity first did not store the value as it is")
	}
	sealed, _ := withIdentity.ToStorage(plain, "k")
	if got, _, err := identityFirst.FromStorage(sealed, "k"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("identity first could not read what secretbox wrote: %v", err)
	}
	onlyIdentity := chainOf(t, config(identity))
	if _, _, err := onlyIdentity.FromStorage(sealed, "k"); err == nil {
		t.Fatal("identity alone returned encrypted data as if it were plain")
	}
}

func TestResourcesMatchExactlyThenByGroupWildcardThenEverything(t *testing.T) {
	c, err := Parse([]byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [events]
  providers: [{identity: {}}]
- resources: [secrets, configmaps, pandas.awesome.bears.example]
  providers: [{aescbc: {keys: [{name: a, secret: ` + b64(32, 1) + `}]}}]
- resources: ['*.apps']
  providers: [{aescbc: {keys: [{name: b, secret: ` + b64(32, 2) + `}]}}]
- resources: ['*.']
  providers: [{secretbox: {keys: [{name: c, secret: ` + b64(32, 3) + `}]}}]
- resources: ['*.*']
  providers: [{aesgcm: {keys: [{name: d, secret: ` + b64(32, 4) + `}]}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		gr   schema.GroupResource
		want string
	}{
		{schema.GroupResource{Resource: "secrets"}, "aescbc:v1:a:"},
		{schema.GroupResource{Group: "awesome.bears.example", Resource: "pandas"}, "aescbc:v1:a:"},
		{schema.GroupResource{Group: "apps", Resource: "deployments"}, "aescbc:v1:b:"},
		{schema.GroupResource{Resource: "pods"}, "secretbox:v1:c:"},
		{schema.GroupResource{Group: "batch", Resource: "jobs"}, "aesgcm:v1:d:"},
		{schema.GroupResource{Resource: "events"}, ""},
	} {
		s, err := c.For(tc.gr).ToStorage([]byte("x"), "k")
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == "" && string(s) != "x" || tc.want != "" && !bytes.HasPrefix(s, []byte("k8s:enc:"+tc.want)) {
			t.Errorf("%s stored as %q, want prefix %q", tc.gr, s, tc.want)
		}
	}
	none, _ := Parse(config(provider("aescbc", "a="+b64(32, 1))))
	if none.For(schema.GroupResource{Resource: "configmaps"}) != nil {
		t.Error("a resource no rule names got a transformer")
	}
}

func TestBadConfigurationsAreRefusedWithUpstreamsMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want string
	}{
		{"a key of the wrong length", string(config(provider("aescbc", "k="+b64(20, 1)))), "secret is not of the expected length, got 20, expected one of [16 24 32]"},
		{"a secretbox key that is not 32 bytes", string(config(provider("secretbox", "k="+b64(16, 1)))), "expected one of [32]"},
		{"a secret that is not base64", string(config(provider("aesgcm", "k=not*base64"))), "secrets must be base64 encoded"},
		{"two providers in one element", string(config("  - identity: {}\n    aescbc: {keys: [{name: k, secret: " + b64(32, 1) + "}]}\n")), "more than one provider specified in a single element"},
		{"no providers", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n", "at least one resources[0].providers is required"},
		{"a bare star", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: ['*']\n  providers: [{identity: {}}]\n", "use '*.' to encrypt all the resources from core API group"},
		{"overlapping resources", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, '*.']\n  providers: [{identity: {}}]\n", "using overlapping resources"},
		{"capital letters", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [Secrets]\n  providers: [{identity: {}}]\n", "should not contain capital letters"},
		{"a kms provider", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: x, endpoint: unix:///k.sock}}]\n", "Unsupported value: \"kms\""},
		{"the wrong kind", "apiVersion: v1\nkind: ConfigMap\n", "expected apiVersion apiserver.config.k8s.io/v1 and kind EncryptionConfiguration"},
		{"an unknown field", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresourcez: []\n", "unknown field"},
		{"duplicate key names", string(config(provider("aescbc", "k="+b64(32, 1), "k="+b64(32, 2)))), "Duplicate value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestTheDefaultConfigurationEncryptsSecretsAndReadsPlaintext(t *testing.T) {
	path := t.TempDir() + "/cred/encryption-config.yaml"
	c, err := EnsureDefault(path)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.For(secrets).ToStorage([]byte("v"), "k")
	if !bytes.HasPrefix(s, []byte("k8s:enc:aescbc:v1:key1:")) {
		t.Fatalf("default writes %q", s)
	}
	if _, _, err := c.For(secrets).FromStorage([]byte("k8s\x00plain"), "k"); err != nil {
		t.Fatalf("default cannot read plaintext: %v", err)
	}
	again, err := EnsureDefault(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := again.For(secrets).FromStorage(s, "k"); err != nil || string(got) != "v" {
		t.Fatalf("a second start made a new key: %v", err)
	}
}
