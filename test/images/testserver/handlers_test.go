package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the handlers and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestServer(t *testing.T) (*server, *httptest.Server, *syncBuffer, chan int) {
	t.Helper()
	logs := &syncBuffer{}
	exits := make(chan int, 1)
	s := newServer(logs, func(code int) { exits <- code })
	s.hostname = func() (string, error) { return "pod-a", nil }
	ts := httptest.NewServer(s.handler())
	t.Cleanup(ts.Close)
	return s, ts, logs, exits
}

func get(t *testing.T, ts *httptest.Server, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestEndpointsAnswerAsDocumented(t *testing.T) {
	_, ts, _, _ := newTestServer(t)
	for _, tc := range []struct {
		name, path string
		code       int
		body       string
	}{
		{"the root prints the host name", "/", 200, "pod-a\n"},
		{"/hostname prints the host name", "/hostname", 200, "pod-a\n"},
		{"/echo echoes msg exactly", "/echo?msg=hello%20world", 200, "hello world"},
		{"/echo without msg is empty", "/echo", 200, ""},
		{"/healthz starts healthy", "/healthz", 200, "ok\n"},
		{"/readyz starts ready", "/readyz", 200, "ok\n"},
		{"an unknown path is 404", "/nope", 404, "404 page not found\n"},
		{"/exit refuses a code out of range", "/exit?code=300", 400, "code must be an integer from 0 to 255\n"},
		{"/burn refuses a bad cpu count", "/burn?cpu=x", 400, "cpu must be an integer from 1 to 64\n"},
		{"/alloc refuses a bad size", "/alloc?mb=-1", 400, "mb must be an integer from 1 to 65536\n"},
		{"/ready refuses a state that is no boolean", "/ready?state=maybe", 400, "state must be true or false\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, ts, tc.path)
			if code != tc.code || body != tc.body {
				t.Fatalf("GET %s = %d %q, want %d %q", tc.path, code, body, tc.code, tc.body)
			}
		})
	}
}

func TestReadinessAndLivenessFlipBackAndForth(t *testing.T) {
	_, ts, _, _ := newTestServer(t)
	if _, body := get(t, ts, "/ready?state=false"); body != "false\n" {
		t.Fatalf("/ready?state=false = %q", body)
	}
	if code, _ := get(t, ts, "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz after flipping off = %d, want 503", code)
	}
	if code, _ := get(t, ts, "/healthz"); code != 200 {
		t.Fatalf("/healthz = %d: readiness must not touch liveness", code)
	}
	get(t, ts, "/ready?state=true")
	if code, _ := get(t, ts, "/readyz"); code != 200 {
		t.Fatalf("/readyz after flipping on = %d", code)
	}
	get(t, ts, "/health?state=false")
	if code, _ := get(t, ts, "/healthz"); code != http.StatusInternalServerError {
		t.Fatalf("/healthz after flipping off = %d, want 500", code)
	}
}

func TestExitAnswersThenExitsWithTheCode(t *testing.T) {
	_, ts, _, exits := newTestServer(t)
	if code, body := get(t, ts, "/exit?code=3"); code != 200 || body != "exiting with 3\n" {
		t.Fatalf("/exit = %d %q", code, body)
	}
	select {
	case code := <-exits:
		if code != 3 {
			t.Fatalf("exited with %d, want 3", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit after /exit")
	}
}

func TestAllocHoldsMemoryUntilFree(t *testing.T) {
	s, ts, _, _ := newTestServer(t)
	if _, body := get(t, ts, "/alloc?mb=2"); body != "holding 2 MiB\n" {
		t.Fatalf("/alloc = %q", body)
	}
	if _, body := get(t, ts, "/alloc?mb=3"); body != "holding 5 MiB\n" {
		t.Fatalf("second /alloc = %q", body)
	}
	get(t, ts, "/free")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heldMiB() != 0 {
		t.Fatal("/free kept memory")
	}
}

func TestBurnAnswersAtOnce(t *testing.T) {
	_, ts, _, _ := newTestServer(t)
	start := time.Now()
	if _, body := get(t, ts, "/burn?cpu=1&seconds=1"); body != "burning 1 cpu for 1 seconds\n" {
		t.Fatalf("/burn = %q", body)
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Fatal("/burn waited for the burn to end")
	}
}

func TestEnvPrintsNamesThatAreNoShellIdentifiers(t *testing.T) {
	_, ts, _, _ := newTestServer(t)
	t.Setenv("data-1", "value-1")
	t.Setenv("TESTSERVER_X", "y")
	_, body := get(t, ts, "/env")
	for _, want := range []string{"data-1=value-1\n", "TESTSERVER_X=y\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/env lacks %q:\n%s", want, body)
		}
	}
}

func TestHeadersPrintsRequestLineHostAndHeaders(t *testing.T) {
	_, ts, _, _ := newTestServer(t)
	_, body := get(t, ts, "/headers?a=b", "X-Test", "one", "X-Test", "two")
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, want := range []string{"GET /headers?a=b HTTP/1.1\n", "Host: " + host + "\n", "X-Test: one\nX-Test: two\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/headers lacks %q:\n%s", want, body)
		}
	}
}

func TestClientIPAndLogAndAccessLog(t *testing.T) {
	_, ts, logs, _ := newTestServer(t)
	if _, body := get(t, ts, "/clientip"); body != "127.0.0.1\n" {
		t.Fatalf("/clientip = %q", body)
	}
	get(t, ts, "/log?msg=marker-42")
	out := logs.String()
	if !strings.Contains(out, "\nmarker-42\n") || !strings.Contains(out, "GET /clientip from 127.0.0.1:") {
		t.Fatalf("stdout lacks the logged message or the access log:\n%s", out)
	}
}
