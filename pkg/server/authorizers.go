package server

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/node"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/rbac"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/union"
	"github.com/minik8s/minik8s/pkg/auth/bootstrappolicy"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// authorizers are the server's --authorization-mode=Node,RBAC: members of
// system:masters first, then the Node authorizer, then RBAC. Both keep their
// view of the cluster in memory, fed synchronously by the storage caches, so
// a check reads no storage and never trails what reads return.
type authorizers struct {
	rbac  *rbac.Authorizer
	graph *node.Graph
	// Authorizer decides on requests and answers access reviews.
	Authorizer authorizer.Interface
	// Guard makes the RBAC escalation checks on writes of roles and bindings.
	Guard *rbac.Guard
	store *storage.Store
}

// Authorization modes, as upstream's --authorization-mode names them.
const (
	ModeNode        = "Node"
	ModeRBAC        = "RBAC"
	ModeAlwaysAllow = "AlwaysAllow"
	ModeAlwaysDeny  = "AlwaysDeny"
)

// newAuthorizers asks, after the system:masters bypass, the authorizers of
// modes in order (see Config.AuthorizationModes, checked by Validate).
func newAuthorizers(modes []string) *authorizers {
	a := &authorizers{rbac: rbac.New(), graph: node.NewGraph()}
	list := []authorizer.Interface{authorizer.PrivilegedGroups{auth.GroupMasters}}
	for _, m := range modes {
		switch m {
		case ModeNode:
			list = append(list, node.New(a.graph, bootstrappolicy.NodeRules()))
		case ModeRBAC:
			list = append(list, a.rbac)
		case ModeAlwaysAllow:
			list = append(list, authorizer.Always(authorizer.Allow))
		case ModeAlwaysDeny:
			list = append(list, authorizer.Always(authorizer.Deny))
		}
	}
	a.Authorizer = authorizer.CaughtUp{Interface: union.New(list...), CatchUp: a.catchUp}
	a.Guard = &rbac.Guard{Authorizer: a.Authorizer, RBAC: a.rbac}
	return a
}

// catchUp lets a refusal wait for writes the caches have not applied yet.
func (a *authorizers) catchUp(ctx context.Context) bool {
	if a.store == nil {
		return false
	}
	return a.store.CatchUp(ctx)
}

// feeder keeps an authorizer's view of the cluster.
type feeder interface {
	Update(obj runtime.Object)
	Delete(obj runtime.Object)
}

// fed are the resources the authorizers read.
var fed = []schema.GroupVersionResource{
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	{Version: "v1", Resource: "pods"},
	{Version: "v1", Resource: "persistentvolumes"},
	{Group: "storage.k8s.io", Version: "v1", Resource: "volumeattachments"},
}

// feed connects the authorizers to the started store; stop disconnects them.
func (a *authorizers) feed(reg *registry.Registry, store *storage.Store) (stop func(), err error) {
	a.store = store
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	for _, gvr := range fed {
		res := reg.Get(gvr)
		if res == nil || res.Store == nil {
			stop()
			return nil, fmt.Errorf("authorization needs %s, which is not stored", gvr)
		}
		var target feeder = a.rbac
		if gvr.Group != "rbac.authorization.k8s.io" {
			target = a.graph
		}
		stops = append(stops, res.Store.Observe(func(e *storage.Event) {
			switch e.Type {
			case watch.Added, watch.Modified:
				target.Update(e.Object)
			case watch.Deleted:
				target.Delete(e.Object)
			}
		}))
	}
	return stop, nil
}
