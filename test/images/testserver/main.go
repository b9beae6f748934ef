// Command testserver is the program of the minik8s.io/testserver test image: a
// small HTTP server whose behaviour tests steer through its endpoints, and a few
// one-shot modes for containers that should sleep, print or exit.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const usage = `usage: testserver [MODE [ARG]]

Modes:
  serve            HTTP server on $PORT (default 8080); the default mode
  sleep [SECONDS]  sleep that long (default: forever, also "infinity")
  grpc-health [SECONDS]
                   grpc.health.v1 server on $PORT (default 5000): SERVING, then
                   NOT_SERVING after SECONDS if given
  env              print every environment variable, one per line, sorted
  hostname         print the host name
  exit CODE        exit with CODE at once
  help, --help     this text

Endpoints of serve:
  /, /hostname          the host name (the pod name in a pod)
  /echo?msg=TEXT        TEXT
  /healthz, /readyz     200 ok, or 500/503 once flipped off
  /health?state=false   flip liveness (true flips it back); /ready?state= for readiness
  /exit?code=N          answer, then exit with N
  /burn?cpu=C&seconds=S keep C cores busy for S seconds (answers at once)
  /alloc?mb=N, /free    allocate and hold N MiB more; release all
  /env                  every environment variable
  /headers              the request line and headers
  /clientip             the address the request came from
  /log?msg=TEXT         write TEXT to stdout

SIGTERM and SIGINT end every mode with exit code 0.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one mode and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	mode, arg := "serve", ""
	if len(args) > 0 {
		mode = args[0]
	}
	if len(args) > 1 {
		arg = args[1]
	}
	// A process that is PID 1 in its container gets no default action for
	// SIGTERM: without a handler, a pod deletion would wait out its grace period.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	switch mode {
	case "serve":
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		ln, err := net.Listen("tcp", ":"+port)
		if err != nil {
			fmt.Fprintln(stderr, "testserver:", err)
			return 1
		}
		if err := serve(ctx, ln, stdout); err != nil {
			fmt.Fprintln(stderr, "testserver:", err)
			return 1
		}
		return 0
	case "sleep":
		return sleep(ctx, arg, stderr)
	case "grpc-health":
		return runGRPCHealth(ctx, arg, stdout, stderr)
	case "env":
		writeEnv(stdout)
		return 0
	case "hostname":
		name, err := os.Hostname()
		if err != nil {
			fmt.Fprintln(stderr, "testserver: hostname:", err)
			return 1
		}
		fmt.Fprintln(stdout, name)
		return 0
	case "exit":
		code, err := strconv.Atoi(arg)
		if err != nil || code < 0 || code > 255 {
			fmt.Fprintf(stderr, "testserver: exit code %q is not 0-255\n", arg)
			return 2
		}
		return code
	case "help", "--help", "-h":
		io.WriteString(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "testserver: unknown mode %q\n\n%s", mode, usage)
	return 2
}

// serve answers on ln until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, out io.Writer) error {
	s := newServer(out, os.Exit)
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "testserver listening on %s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "testserver shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func sleep(ctx context.Context, arg string, stderr io.Writer) int {
	var timeout <-chan time.Time
	if arg != "" && arg != "infinity" {
		secs, err := strconv.ParseFloat(arg, 64)
		if err != nil || secs < 0 {
			fmt.Fprintf(stderr, "testserver: sleep %q is not a number of seconds\n", arg)
			return 2
		}
		timeout = time.After(time.Duration(secs * float64(time.Second)))
	}
	select {
	case <-timeout:
	case <-ctx.Done():
	}
	return 0
}
