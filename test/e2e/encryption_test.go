package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// etcdValue reads a key straight from the server's embedded etcd, as
// `etcdctl get` would, through the member's unix socket.
func etcdValue(t *testing.T, dataDir, key string) []byte {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"unix://" + filepath.Join(dataDir, "server", "db", "client.sock")},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("connect to etcd: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, key)
	if err != nil {
		t.Fatalf("etcd get %s: %v", key, err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("etcd has no %s", key)
	}
	return resp.Kvs[0].Value
}

// A Secret is encrypted in etcd by default, and survives a restart with a
// rotated key: the old key still reads it, and rewriting it uses the new one.
func TestSecretsAreEncryptedAtRestAndSurviveKeyRotation(t *testing.T) {
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent"}})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := c.DataDir
	defer func() { c.Destroy() }()
	kubectl := framework.KubectlPath(t, "")
	s := &framework.Session{T: t, C: c, Kubectl: kubectl, Namespace: "default"}
	s.Run("create", "secret", "generic", "db", "--from-literal=password=hunter2-plaintext")
	s.Run("create", "configmap", "plain", "--from-literal=a=visible-value")

	raw := etcdValue(t, dataDir, "/registry/secrets/default/db")
	if !bytes.HasPrefix(raw, []byte("k8s:enc:aescbc:v1:key1:")) {
		t.Fatalf("etcd holds the Secret as %.40q, want the k8s:enc:aescbc:v1:key1: prefix", raw)
	}
	if bytes.Contains(raw, []byte("hunter2")) {
		t.Fatal("the Secret's value is readable in etcd")
	}
	if cm := etcdValue(t, dataDir, "/registry/configmaps/default/plain"); !bytes.HasPrefix(cm, []byte("k8s\x00")) {
		t.Fatalf("a ConfigMap is stored as %.20q, want plain protobuf", cm)
	}

	// Rotate: a new aesgcm key first, the generated aescbc key after it.
	generated, err := os.ReadFile(filepath.Join(dataDir, "server", "cred", "encryption-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ec apiserverv1.EncryptionConfiguration
	if err := yaml.Unmarshal(generated, &ec); err != nil {
		t.Fatal(err)
	}
	oldKey := ec.Resources[0].Providers[0].AESCBC.Keys[0]
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	rotated := filepath.Join(t.TempDir(), "encryption.yaml")
	cfg := strings.Join([]string{
		"apiVersion: apiserver.config.k8s.io/v1",
		"kind: EncryptionConfiguration",
		"resources:",
		"- resources: [secrets]",
		"  providers:",
		"  - aesgcm: {keys: [{name: key2, secret: " + newKey + "}]}",
		"  - aescbc: {keys: [{name: " + oldKey.Name + ", secret: " + oldKey.Secret + "}]}",
		"  - identity: {}",
	}, "\n") + "\n"
	if err := os.WriteFile(rotated, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The new server listens on another port; wait for its kubeconfig.
	os.Remove(c.Kubeconfig)
	c, err = framework.Start(framework.Options{DataDir: dataDir, Args: []string{"--disable-agent", "--encryption-provider-config", rotated}})
	if err != nil {
		t.Fatalf("restart with the rotated configuration: %v", err)
	}
	s.C = c
	framework.Contains(t, s.Run("get", "secret", "db", "-o", "jsonpath={.data.password}"),
		base64.StdEncoding.EncodeToString([]byte("hunter2-plaintext")))

	// Rewriting every Secret, as upstream's rotation procedure does, moves it to the new key.
	all := s.Run("get", "secret", "db", "-o", "json")
	s.DoIn(all, "replace", "-f", "-")
	raw = etcdValue(t, dataDir, "/registry/secrets/default/db")
	if !bytes.HasPrefix(raw, []byte("k8s:enc:aesgcm:v1:key2:")) {
		t.Fatalf("after replace etcd holds %.40q, want the k8s:enc:aesgcm:v1:key2: prefix", raw)
	}
	framework.Contains(t, s.Run("get", "secret", "db", "-o", "jsonpath={.data.password}"),
		base64.StdEncoding.EncodeToString([]byte("hunter2-plaintext")))

	// A configuration that is wrong stops the server with upstream's message.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: k, secret: c2hvcnQ=}]}}]\n"), 0o600)
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	_, err = framework.Start(framework.Options{DataDir: dataDir, Args: []string{"--disable-agent", "--encryption-provider-config", bad}})
	if err == nil || !strings.Contains(err.Error(), "secret is not of the expected length") {
		t.Fatalf("a bad configuration gave %v", err)
	}
}
