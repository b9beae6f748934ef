package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/all"
	"github.com/minik8s/minik8s/pkg/storage"
)

// The tests share one API server on an embedded etcd, assembled as the server
// package does and served in-process over plain HTTP.
var (
	testServer *Server
	testURL    string
	// testConfig is testServer's configuration, for tests that build another
	// server on the same storage.
	testConfig Config
)

// maxBody is the request size limit of the test server.
const maxBody = 1 << 20

// allowAll authorizes every request, anonymous ones included.
type allowAll struct{}

func (allowAll) Authorize(context.Context, Attributes) (authorizer.Decision, string, error) {
	return authorizer.Allow, "", nil
}

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runTests(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "apiserver-etcd")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	e, err := startTestEtcd(dir)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	client := v3client.New(e.Server)
	defer client.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg, err := all.Build(all.Options{})
	if err != nil {
		return 0, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := storage.New(storage.Config{Client: client, Prefix: "/registry", SingleWriter: true, Logger: logger})
	if err != nil {
		return 0, err
	}
	if err := registerTestStorage(store, reg); err != nil {
		return 0, err
	}
	// A write before the store starts makes revision 1 older than its history, for
	// the tests of 410 Gone.
	if _, err := client.Put(ctx, "/registry/seed/seed", "seed"); err != nil {
		return 0, err
	}
	if err := store.Start(ctx); err != nil {
		return 0, err
	}
	testConfig = Config{Store: store, Registry: reg, Address: "127.0.0.1:0", Authorizer: allowAll{},
		MaxRequestBodyBytes: maxBody, Logger: logger}
	testServer, err = New(testConfig)
	if err != nil {
		return 0, err
	}
	for _, ns := range []string{"default", "other"} {
		if err := testServer.Ensure(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return 0, err
		}
		// Pods need their service account (the ServiceAccount admission plugin).
		if err := testServer.Ensure(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}); err != nil {
			return 0, err
		}
	}
	hs := httptest.NewServer(testServer)
	defer hs.Close()
	testURL = hs.URL
	return m.Run(), nil
}

// startTestEtcd starts a single member on unix sockets in dir, without fsync.
func startTestEtcd(dir string) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "data")
	cfg.Name = "test"
	client, _ := url.Parse("unix://" + filepath.Join(dir, "c.sock"))
	peer, _ := url.Parse("unix://" + filepath.Join(dir, "p.sock"))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.LogLevel = "fatal"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, fmt.Errorf("etcd not ready")
	}
}

// registerTestStorage gives every stored resource its storage, versions of one
// resource sharing it, as the server package does.
func registerTestStorage(store *storage.Store, reg *registry.Registry) error {
	byPrefix := map[string]*storage.Resource{}
	for _, res := range reg.All() {
		if res.KeyPrefix == "" {
			continue
		}
		if sr := byPrefix[res.KeyPrefix]; sr != nil {
			res.Store = sr
			continue
		}
		sgvk := res.StorageGVK()
		newFunc := res.New
		if res.Converts() {
			newFunc = func() runtime.Object {
				o, err := apis.Scheme.New(sgvk)
				if err != nil {
					panic(err)
				}
				return o
			}
		}
		sr, err := store.Register(storage.ResourceOptions{GroupResource: res.GroupResource(), KeyPrefix: res.KeyPrefix,
			Namespaced: res.Namespaced, NewFunc: newFunc, StorageKind: sgvk})
		if err != nil {
			return err
		}
		byPrefix[res.KeyPrefix] = sr
		res.Store = sr
	}
	return nil
}

// reply is an HTTP response with its body read.
type reply struct {
	code   int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.code, r.body) }

// call sends a request; body is a string, bytes, or a value encoded as JSON; hdr
// holds header names and values in turn. Without a Content-Type a body is JSON.
func call(t *testing.T, method, path string, body interface{}, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, testURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{code: resp.StatusCode, header: resp.Header, body: data}
}

// must fails unless the reply has the code.
func (r reply) must(t *testing.T, code int) reply {
	t.Helper()
	if r.code != code {
		t.Fatalf("got %s, want %d", r, code)
	}
	return r
}

// into decodes the reply into v, which should be fresh: decoding into a used value
// merges maps.
func (r reply) into(t *testing.T, v interface{}) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// status decodes a Status reply, checking its code and reason.
func (r reply) status(t *testing.T, code int, reason metav1.StatusReason) *metav1.Status {
	t.Helper()
	r.must(t, code)
	st := &metav1.Status{}
	r.into(t, st)
	if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != metav1.StatusFailure || st.Code != int32(code) || st.Reason != reason {
		t.Fatalf("got status %+v, want a %d %s failure", st, code, reason)
	}
	return st
}

// warnings returns the texts of a reply's Warning headers.
func (r reply) warnings(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, h := range r.header.Values("Warning") {
		code, text, ok := strings.Cut(h, " - ")
		if !ok || code != "299" {
			t.Fatalf("malformed warning header %q", h)
		}
		var s string
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			t.Fatalf("warning text %q is not quoted: %v", text, err)
		}
		out = append(out, s)
	}
	return out
}

var nameSeq atomic.Int64

// uniqueName returns a name no other test uses.
func uniqueName(base string) string { return fmt.Sprintf("%s-%d", base, nameSeq.Add(1)) }

const (
	cmPath     = "/api/v1/namespaces/default/configmaps"
	podPath    = "/api/v1/namespaces/default/pods"
	deployPath = "/apis/apps/v1/namespaces/default/deployments"
	svcPath    = "/api/v1/namespaces/default/services"
	nodePath   = "/api/v1/nodes"
)

// createCM creates a configmap in default and returns it.
func createCM(t *testing.T, name string, data map[string]string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"x": "y"}}, Data: data}
	out := &corev1.ConfigMap{}
	call(t, "POST", cmPath, cm).must(t, http.StatusCreated).into(t, out)
	return out
}
