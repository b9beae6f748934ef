package server

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseCRILine(t *testing.T) {
	cases := []struct {
		line    string
		stream  string
		partial bool
		msg     string
		bad     bool
	}{
		{line: "2024-05-01T10:00:00.123456789Z stdout F hello world", stream: "stdout", msg: "hello world"},
		{line: "2024-05-01T10:00:00.1+02:00 stderr P part", stream: "stderr", partial: true, msg: "part"},
		{line: "2024-05-01T10:00:00Z stdout F ", stream: "stdout", msg: ""},
		{line: "2024-05-01T10:00:00Z stdout F", stream: "stdout", msg: ""},
		{line: "2024-05-01T10:00:00Z stdout F  two  spaces ", stream: "stdout", msg: " two  spaces "},
		{line: "2024-05-01T10:00:00Z stdout F:x tagged", stream: "stdout", msg: "tagged"},
		{line: "not-a-time stdout F x", bad: true},
		{line: "2024-05-01T10:00:00Z stdin F x", bad: true},
		{line: "2024-05-01T10:00:00Z stdout Q x", bad: true},
		{line: "2024-05-01T10:00:00Z", bad: true},
	}
	for _, c := range cases {
		e, err := parseCRILine([]byte(c.line))
		if c.bad {
			if err == nil {
				t.Errorf("%q: parsed, want an error", c.line)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if e.stream != c.stream || e.partial != c.partial || string(e.msg) != c.msg {
			t.Errorf("%q: got stream %q partial %v msg %q", c.line, e.stream, e.partial, e.msg)
		}
	}
}

func TestParseLogOptions(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	o, err := ParseLogOptions(url.Values{"follow": {"true"}, "previous": {"1"}, "timestamps": {""},
		"tailLines": {"5"}, "limitBytes": {"100"}, "sinceSeconds": {"60"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Follow || !o.Previous || !o.Timestamps || *o.TailLines != 5 || *o.LimitBytes != 100 || !o.Since.Equal(now.Add(-time.Minute)) {
		t.Fatalf("got %+v", o)
	}
	o, err = ParseLogOptions(url.Values{"sinceTime": {"2024-05-01T09:00:00Z"}, "tail": {"3"}}, now)
	if err != nil || !o.Since.Equal(now.Add(-time.Hour)) || o.TailLines == nil || *o.TailLines != 3 {
		t.Fatalf("got %+v, %v", o, err)
	}
	if o, err := ParseLogOptions(url.Values{"tail": {"all"}}, now); err != nil || o.TailLines != nil {
		t.Fatalf("tail=all: got %+v, %v", o, err)
	}
	for _, q := range []url.Values{
		{"tailLines": {"-1"}},
		{"limitBytes": {"0"}},
		{"sinceSeconds": {"0"}},
		{"sinceSeconds": {"1"}, "sinceTime": {"2024-05-01T09:00:00Z"}},
		{"stream": {"Both"}},
		{"stream": {"Stdout"}, "tailLines": {"1"}},
	} {
		if _, err := ParseLogOptions(q, now); !errors.Is(err, errInvalidLogOptions) {
			t.Errorf("%v: got %v, want an invalid-options error", q, err)
		}
	}
	for _, q := range []url.Values{{"follow": {"yes"}}, {"tailLines": {"x"}}, {"sinceTime": {"yesterday"}}} {
		if _, err := ParseLogOptions(q, now); err == nil || errors.Is(err, errInvalidLogOptions) {
			t.Errorf("%v: got %v, want a parse error", q, err)
		}
	}
}

// writeLog writes CRI lines, one per second from t0.
func writeLog(t *testing.T, lines ...string) (string, time.Time) {
	t.Helper()
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano) + " " + l + "\n")
	}
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, t0
}

func readAll(t *testing.T, path string, o LogOptions) string {
	t.Helper()
	var out bytes.Buffer
	if err := ReadLogs(context.Background(), path, o, &out, nil, nil); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func ptr(n int64) *int64 { return &n }

func TestReadLogs(t *testing.T) {
	path, t0 := writeLog(t, "stdout F one", "stderr F two", "stdout P thr", "stdout F ee", "stdout F four")
	if got := readAll(t, path, LogOptions{}); got != "one\ntwo\nthree\nfour\n" {
		t.Errorf("all: %q", got)
	}
	// Tail counts file lines, as upstream's kubelet does.
	if got := readAll(t, path, LogOptions{TailLines: ptr(2)}); got != "ee\nfour\n" {
		t.Errorf("tail 2: %q", got)
	}
	if got := readAll(t, path, LogOptions{TailLines: ptr(0)}); got != "" {
		t.Errorf("tail 0: %q", got)
	}
	if got := readAll(t, path, LogOptions{TailLines: ptr(50)}); got != "one\ntwo\nthree\nfour\n" {
		t.Errorf("tail 50: %q", got)
	}
	if got := readAll(t, path, LogOptions{Since: t0.Add(1500 * time.Millisecond)}); got != "three\nfour\n" {
		t.Errorf("since: %q", got)
	}
	if got := readAll(t, path, LogOptions{LimitBytes: ptr(6)}); got != "one\ntw" {
		t.Errorf("limit: %q", got)
	}
	if got := readAll(t, path, LogOptions{Stream: "Stderr"}); got != "two\n" {
		t.Errorf("stderr: %q", got)
	}
	got := readAll(t, path, LogOptions{Timestamps: true, TailLines: ptr(3)})
	want := "2024-05-01T10:00:02.000000000Z three\n2024-05-01T10:00:04.000000000Z four\n"
	if got != want {
		t.Errorf("timestamps: %q, want %q", got, want)
	}
}

func TestReadLogsSkipsBadLinesAndLongLines(t *testing.T) {
	long := strings.Repeat("x", 200*1024)
	path, _ := writeLog(t, "stdout F a", "stdout F "+long, "stdout F b")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("garbage line\n2024-05-01T10:01:00Z stdout F c")
	f.Close()
	got := readAll(t, path, LogOptions{})
	if got != "a\n"+long+"\nb\nc\n" {
		t.Errorf("got %d bytes, starting %q", len(got), got[:min(len(got), 20)])
	}
}

// syncBuffer is written by ReadLogs while the test reads it.
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

func TestReadLogsFollow(t *testing.T) {
	oldPoll, oldCheck := followPoll, followCheck
	followPoll, followCheck = 5*time.Millisecond, 20*time.Millisecond
	defer func() { followPoll, followCheck = oldPoll, oldCheck }()

	path, _ := writeLog(t, "stdout F first")
	var mu sync.Mutex
	alive := true
	running := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return alive
	}
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- ReadLogs(context.Background(), path, LogOptions{Follow: true}, out, nil, running) }()

	waitFor(t, func() bool { return out.String() == "first\n" })
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A line written in two pieces comes out once complete.
	f.WriteString("2024-05-01T10:00:05Z stdout F sec")
	time.Sleep(30 * time.Millisecond)
	f.WriteString("ond\n")
	waitFor(t, func() bool { return out.String() == "first\nsecond\n" })
	f.WriteString("2024-05-01T10:00:06Z stdout F last\n")
	f.Close()
	mu.Lock()
	alive = false
	mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end after the container stopped")
	}
	if got := out.String(); got != "first\nsecond\nlast\n" {
		t.Fatalf("got %q", got)
	}
}

func TestReadLogsFollowEndsWithContext(t *testing.T) {
	path, _ := writeLog(t, "stdout F only")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ReadLogs(ctx, path, LogOptions{Follow: true}, &syncBuffer{}, nil, func() bool { return true })
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end with its context")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
