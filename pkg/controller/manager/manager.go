// Package manager runs the in-process controllers as one server component, sharing
// one informer factory, like upstream's kube-controller-manager.
package manager

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/minik8s/minik8s/pkg/controller/clusterroleaggregation"
	"github.com/minik8s/minik8s/pkg/controller/namespace"
	"github.com/minik8s/minik8s/pkg/controller/nodeipam"
	"github.com/minik8s/minik8s/pkg/controller/rootca"
	"github.com/minik8s/minik8s/pkg/controller/serviceaccount"
	"github.com/minik8s/minik8s/pkg/server"
)

// Manager is the controller-manager component.
type Manager struct {
	client      kubernetes.Interface
	metadata    metadata.Interface
	clusterCIDR string
	caPEM       []byte
	log         *slog.Logger
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
	return &Manager{client: client, metadata: md, clusterCIDR: env.Config.ClusterCIDR, caPEM: env.CAPEM,
		log: env.Logger.With("component", "controller-manager")}, nil
}

// Name implements server.Component.
func (m *Manager) Name() string { return "controller-manager" }

// Run starts every controller and waits for ctx.
func (m *Manager) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(m.client, 12*time.Hour)
	disc := memory.NewMemCacheClient(m.client.Discovery())
	ns := namespace.New(m.client, factory.Core().V1().Namespaces(),
		namespace.NewContentDeleter(disc, m.metadata), m.log.With("controller", "namespace"))
	ipam, err := nodeipam.New(m.client, factory.Core().V1().Nodes(), m.clusterCIDR, 24, m.log.With("controller", "nodeipam"))
	if err != nil {
		return err
	}
	sa := serviceaccount.New(m.client, factory.Core().V1().Namespaces(), factory.Core().V1().ServiceAccounts(), m.log.With("controller", "serviceaccount"))
	// Only the published ConfigMaps matter: watching every ConfigMap would copy them all.
	caMaps := informers.NewSharedInformerFactoryWithOptions(m.client, 12*time.Hour, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", rootca.ConfigMapName).String()
	}))
	ca := rootca.New(m.client, m.caPEM, factory.Core().V1().Namespaces(), caMaps.Core().V1().ConfigMaps(), m.log.With("controller", "root-ca-cert-publisher"))
	caMaps.Start(ctx.Done())
	defer caMaps.Shutdown()
	agg := clusterroleaggregation.New(m.client, factory.Rbac().V1().ClusterRoles(), m.log.With("controller", "clusterrole-aggregation"))
	factory.Start(ctx.Done())
	errc := make(chan error, 5)
	go func() { errc <- sa.Run(ctx) }()
	go func() { errc <- ca.Run(ctx) }()
	go func() { errc <- ns.Run(ctx, 2) }()
	go func() { errc <- ipam.Run(ctx) }()
	go func() { errc <- agg.Run(ctx) }()
	select {
	case <-ctx.Done():
		factory.Shutdown()
		return nil
	case err := <-errc:
		return err
	}
}
