package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

// get fetches a path with the given request headers, without Go's transparent
// gzip so the test sees what the server sent.
func get(t *testing.T, base, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func etagOf(body []byte) string { return fmt.Sprintf("%q", fmt.Sprintf("%X", sha512.Sum512(body))) }

func TestV3IndexListsEveryGroupVersionWithTheHashOfItsDocument(t *testing.T) {
	_, _, srv := newTestService(t, configMaps(), deployments())
	resp, body := get(t, srv.URL, "/openapi/v3")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi/v3: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var index v3Index
	if err := json.Unmarshal(body, &index); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range index.Paths {
		keys = append(keys, k)
	}
	for _, want := range []string{"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "version"} {
		entry, ok := index.Paths[want]
		if !ok {
			t.Errorf("index has no %q; has %v", want, keys)
			continue
		}
		resp, doc := get(t, srv.URL, entry.ServerRelativeURL)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", entry.ServerRelativeURL, resp.StatusCode)
			continue
		}
		if got, sum := resp.Header.Get("Etag"), etagOf(doc); got != sum {
			t.Errorf("%s: ETag %s, want the SHA-512 of the body %s", want, got, sum)
		}
		if !strings.HasSuffix(entry.ServerRelativeURL, "?hash="+strings.Trim(etagOf(doc), `"`)) {
			t.Errorf("%s: the index hash is not the document's: %s", want, entry.ServerRelativeURL)
		}
		if resp.Header.Get("Cache-Control") != "public, immutable" || resp.Header.Get("Expires") == "" {
			t.Errorf("%s with its hash: Cache-Control %q Expires %q, want immutable caching", want, resp.Header.Get("Cache-Control"), resp.Header.Get("Expires"))
		}
	}
}

func TestV3DocumentRequests(t *testing.T) {
	_, _, srv := newTestService(t, configMaps())
	_, body := get(t, srv.URL, "/openapi/v3")
	var index v3Index
	if err := json.Unmarshal(body, &index); err != nil {
		t.Fatal(err)
	}
	current := index.Paths["api/v1"].ServerRelativeURL
	cases := []struct {
		name, path   string
		wantCode     int
		wantLocation string
		wantCache    string
	}{
		{"without a hash the document is served but not cached for good", "/openapi/v3/api/v1", http.StatusOK, "", "no-cache, private"},
		{"a stale hash is redirected to the current one", "/openapi/v3/api/v1?hash=ABC", http.StatusMovedPermanently, current, ""},
		{"an unknown group version is not found", "/openapi/v3/apis/example.com/v1", http.StatusNotFound, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := get(t, srv.URL, c.path)
			if resp.StatusCode != c.wantCode {
				t.Fatalf("GET %s: %d, want %d", c.path, resp.StatusCode, c.wantCode)
			}
			if got := resp.Header.Get("Location"); got != c.wantLocation {
				t.Errorf("Location %q, want %q", got, c.wantLocation)
			}
			if got := resp.Header.Get("Cache-Control"); got != c.wantCache {
				t.Errorf("Cache-Control %q, want %q", got, c.wantCache)
			}
		})
	}
}

func TestConditionalAndCompressedAnswers(t *testing.T) {
	_, _, srv := newTestService(t, configMaps())
	for _, path := range []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1"} {
		resp, plain := get(t, srv.URL, path)
		etag := resp.Header.Get("Etag")
		if etag != etagOf(plain) {
			t.Errorf("%s: ETag %s, want %s", path, etag, etagOf(plain))
		}
		t.Run(path+" answers 304 to a matching If-None-Match", func(t *testing.T) {
			resp, body := get(t, srv.URL, path, "If-None-Match", etag)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("%d with %d bytes, want 304 and no body", resp.StatusCode, len(body))
			}
		})
		t.Run(path+" answers 200 to a stale If-None-Match", func(t *testing.T) {
			if resp, _ := get(t, srv.URL, path, "If-None-Match", `"0000"`); resp.StatusCode != http.StatusOK {
				t.Errorf("%d, want 200", resp.StatusCode)
			}
		})
		t.Run(path+" is gzip-compressed when the client takes gzip", func(t *testing.T) {
			resp, body := get(t, srv.URL, path, "Accept-Encoding", "gzip")
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(unzipped, plain) {
				t.Errorf("the compressed answer differs from the plain one")
			}
		})
	}
}

func TestV2Negotiation(t *testing.T) {
	_, _, srv := newTestService(t, configMaps())
	cases := []struct {
		name, accept, wantType string
		wantCode               int
	}{
		{"no Accept header gets JSON", "", "application/json", http.StatusOK},
		{"kubectl's protobuf media type gets protobuf under its current name", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", mediaV2Proto, http.StatusOK},
		{"the current protobuf name gets protobuf", mediaV2Proto + ", application/json;q=0.5", mediaV2Proto, http.StatusOK},
		{"a type the server cannot produce is not acceptable", "text/html", "", http.StatusNotAcceptable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := get(t, srv.URL, "/openapi/v2", "Accept", c.accept)
			if resp.StatusCode != c.wantCode || resp.Header.Get("Content-Type") != c.wantType {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Type"), c.wantCode, c.wantType)
			}
		})
	}
}

func TestV2ProtobufDecodesWithGnostic(t *testing.T) {
	_, _, srv := newTestService(t, configMaps(), pods())
	resp, body := get(t, srv.URL, "/openapi/v2", "Accept", mediaV2ProtoOldName)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi/v2 as protobuf: %d", resp.StatusCode)
	}
	doc := &openapi_v2.Document{}
	if err := proto.Unmarshal(body, doc); err != nil {
		t.Fatalf("decode protobuf: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger %q", doc.Swagger)
	}
	var configMap *openapi_v2.Schema
	for _, d := range doc.GetDefinitions().GetAdditionalProperties() {
		if d.Name == "io.k8s.api.core.v1.ConfigMap" {
			configMap = d.Value
		}
	}
	if configMap == nil {
		t.Fatal("no io.k8s.api.core.v1.ConfigMap definition")
	}
	if !strings.HasPrefix(configMap.Description, "ConfigMap holds configuration data") {
		t.Errorf("description %q", configMap.Description)
	}
	var gvk string
	for _, e := range configMap.VendorExtension {
		if e.Name == "x-kubernetes-group-version-kind" {
			gvk = e.Value.Yaml
		}
	}
	if !strings.Contains(gvk, "kind: ConfigMap") || !strings.Contains(gvk, "version: v1") {
		t.Errorf("x-kubernetes-group-version-kind %q", gvk)
	}
	var patch *openapi_v2.Operation
	for _, p := range doc.GetPaths().GetPath() {
		if p.Name == "/api/v1/namespaces/{namespace}/configmaps/{name}" {
			patch = p.Value.Patch
		}
	}
	if patch == nil || patch.OperationId != "patchCoreV1NamespacedConfigMap" {
		t.Errorf("PATCH of a configmap: %v", patch)
	}
}

func TestNotGetIsNotAllowed(t *testing.T) {
	_, _, srv := newTestService(t, configMaps())
	resp, err := http.Post(srv.URL+"/openapi/v2", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /openapi/v2: %d", resp.StatusCode)
	}
}
