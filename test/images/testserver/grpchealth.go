package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// grpcHealth serves grpc.health.v1 on ln: the server and every service answer
// SERVING, then NOT_SERVING once sickAfter (if positive) has passed, so that a
// gRPC probe can be seen both passing and failing.
func grpcHealth(ctx context.Context, ln net.Listener, sickAfter time.Duration, out io.Writer) error {
	hs := health.NewServer()
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	fmt.Fprintf(out, "testserver grpc health on %s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var sick <-chan time.Time
	if sickAfter > 0 {
		sick = time.After(sickAfter)
	}
	for {
		select {
		case err := <-done:
			return fmt.Errorf("serve grpc: %w", err)
		case <-sick:
			fmt.Fprintln(out, "testserver grpc health: NOT_SERVING")
			hs.Shutdown() // every service, the server's own ("") included
			sick = nil
		case <-ctx.Done():
			srv.Stop()
			return nil
		}
	}
}

// runGRPCHealth is the grpc-health mode: the port is $PORT (default 5000).
func runGRPCHealth(ctx context.Context, arg string, stdout, stderr io.Writer) int {
	var sickAfter time.Duration
	if arg != "" {
		secs, err := strconv.ParseFloat(arg, 64)
		if err != nil || secs < 0 {
			fmt.Fprintf(stderr, "testserver: grpc-health %q is not a number of seconds\n", arg)
			return 2
		}
		sickAfter = time.Duration(secs * float64(time.Second))
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintln(stderr, "testserver:", err)
		return 1
	}
	if err := grpcHealth(ctx, ln, sickAfter, stdout); err != nil {
		fmt.Fprintln(stderr, "testserver:", err)
		return 1
	}
	return 0
}
