package sim

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/pkg/server"
)

// ServerComponent runs the controller inside `minik8s server`. With no simulated
// node it holds one idle watch of nodes.
func ServerComponent(env *server.Env) (server.Component, error) {
	client, err := kubernetes.NewForConfig(ClientConfig(env.Loopback, "minik8s-sim"))
	if err != nil {
		return nil, fmt.Errorf("simulated nodes client: %w", err)
	}
	c, err := New(Config{Client: client, Logger: env.Logger.With("component", "sim")})
	if err != nil {
		return nil, err
	}
	return component{c}, nil
}

type component struct{ c *Controller }

func (component) Name() string                    { return "simulated-nodes" }
func (c component) Run(ctx context.Context) error { return c.c.Run(ctx) }
