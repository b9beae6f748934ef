package prober

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
)

func TestGRPCProbe(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := health.NewServer()
	hs.SetServingStatus("liveness", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("sick", healthpb.HealthCheckResponse_NOT_SERVING)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	port := int32(lis.Addr().(*net.TCPAddr).Port)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := int32(closed.Addr().(*net.TCPAddr).Port)
	_ = closed.Close()

	str := func(s string) *string { return &s }
	cases := []struct {
		name    string
		action  corev1.GRPCAction
		want    Result
		message string
	}{
		{"a serving service passes", corev1.GRPCAction{Port: port, Service: str("liveness")}, Success, ""},
		{"the server's overall health is asked when no service is named", corev1.GRPCAction{Port: port}, Success, ""},
		{"a service that is not serving fails", corev1.GRPCAction{Port: port, Service: str("sick")}, Failure, `service unhealthy (responded with "NOT_SERVING")`},
		{"an unknown service fails", corev1.GRPCAction{Port: port, Service: str("nope")}, Failure, "error: health rpc probe failed"},
		{"a port nobody listens on fails after the timeout", corev1.GRPCAction{Port: closedPort}, Failure, "timeout: failed to connect service"},
		{"an invalid port is an error of the probe", corev1.GRPCAction{Port: 0}, Unknown, "invalid port number"},
	}
	c := &Checker{UserAgent: "kube-probe/1.34"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, msg := c.Run(context.Background(), Handler{GRPC: &tc.action}, nil, &corev1.Container{}, "", "127.0.0.1", time.Second)
			if res != tc.want || !strings.Contains(msg, tc.message) {
				t.Fatalf("got %v %q, want %v containing %q", res, msg, tc.want, tc.message)
			}
		})
	}
}
