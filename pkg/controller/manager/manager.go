// Package manager runs the in-process controllers as one server component, sharing
// one informer factory, like upstream's kube-controller-manager.
package manager

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/minik8s/minik8s/pkg/controller/namespace"
	"github.com/minik8s/minik8s/pkg/server"
)

// Manager is the controller-manager component.
type Manager struct {
	client   kubernetes.Interface
	metadata metadata.Interface
	log      *slog.Logger
}

// Factory builds the manager from the server's loopback credentials.
func Factory(env *server.Env) (server.Component, error) {
	cfg := *env.Loopback
	cfg.UserAgent = "minik8s-controller-manager"
	client, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		return nil, fmt.Errorf("controller client: %w", err)
	}
	md, err := metadata.NewForConfig(&cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	return &Manager{client: client, metadata: md, log: env.Logger.With("component", "controller-manager")}, nil
}

// Name implements server.Component.
func (m *Manager) Name() string { return "controller-manager" }

// Run starts every controller and waits for ctx.
func (m *Manager) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(m.client, 12*time.Hour)
	disc := memory.NewMemCacheClient(m.client.Discovery())
	ns := namespace.New(m.client, factory.Core().V1().Namespaces(),
		namespace.NewContentDeleter(disc, m.metadata), m.log.With("controller", "namespace"))
	factory.Start(ctx.Done())
	errc := make(chan error, 1)
	go func() { errc <- ns.Run(ctx, 2) }()
	select {
	case <-ctx.Done():
		factory.Shutdown()
		return nil
	case err := <-errc:
		return err
	}
}
