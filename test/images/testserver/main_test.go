package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestModes(t *testing.T) {
	t.Setenv("data-1", "x")
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string // contained
		stderrPart string
	}{
		{"help prints the usage", []string{"--help"}, 0, "usage: testserver", ""},
		{"exit returns its code", []string{"exit", "7"}, 7, "", ""},
		{"exit refuses a code that is no number", []string{"exit", "x"}, 2, "", "not 0-255"},
		{"sleep for a short while returns 0", []string{"sleep", "0.05"}, 0, "", ""},
		{"sleep refuses a bad duration", []string{"sleep", "soon"}, 2, "", "not a number"},
		{"env prints names that are no shell identifiers", []string{"env"}, 0, "data-1=x\n", ""},
		{"an unknown mode is an error with the usage", []string{"fly"}, 2, "", `unknown mode "fly"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tc.args, &out, &errOut); code != tc.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderrPart) {
				t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
			}
		})
	}
}

func TestServeStopsCleanlyWhenTold(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, io.Discard) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after its context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
