package cri

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// DefaultTimeout bounds a call whose context has no earlier deadline; it is
// kubelet's default --runtime-request-timeout.
const DefaultTimeout = 2 * time.Minute

// maxMessageSize matches kubelet's: container and sandbox lists of a full node
// exceed gRPC's 4 MiB default.
const maxMessageSize = 16 * 1024 * 1024

// Options tune a Client. The zero value is usable.
type Options struct {
	// Timeout bounds each call; zero means DefaultTimeout. Calls that wait on
	// purpose (StopContainer's grace period, ExecSync's timeout) get that much more.
	Timeout time.Duration
	// PullTimeout bounds an image pull; zero leaves it to the caller's context.
	PullTimeout time.Duration
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.Timeout < 0 || o.PullTimeout < 0 {
		return errors.New("CRI client timeouts must not be negative")
	}
	return nil
}

// Client talks to one CRI runtime. It is safe for concurrent use; the
// connection is made lazily and re-made after the runtime restarts.
type Client struct {
	endpoint    string
	conn        *grpc.ClientConn
	runtime     runtimeapi.RuntimeServiceClient
	images      runtimeapi.ImageServiceClient
	timeout     time.Duration
	pullTimeout time.Duration
}

// Dial returns a client of the runtime at endpoint ("unix:///run/x.sock" or
// "/run/x.sock"). It does not wait for the runtime: the first call does.
func Dial(endpoint string, opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	target, err := grpcTarget(endpoint)
	if err != nil {
		return nil, err
	}
	// gRPC's default reconnect back-off grows to two minutes; a runtime the
	// agent restarts is back within seconds, so retry sooner.
	bo := backoff.DefaultConfig
	bo.MaxDelay = 2 * time.Second
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("CRI client for %s: %w", endpoint, err)
	}
	c := &Client{
		endpoint:    endpoint,
		conn:        conn,
		runtime:     runtimeapi.NewRuntimeServiceClient(conn),
		images:      runtimeapi.NewImageServiceClient(conn),
		timeout:     opts.Timeout,
		pullTimeout: opts.PullTimeout,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	return c, nil
}

// Endpoint is the endpoint the client was dialled with.
func (c *Client) Endpoint() string { return c.endpoint }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// call returns a context for one call: the default timeout plus extra, or the
// caller's deadline if that comes first.
func (c *Client) call(ctx context.Context, extra time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout+extra)
}
