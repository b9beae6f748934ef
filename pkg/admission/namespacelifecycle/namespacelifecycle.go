// Package namespacelifecycle is upstream's NamespaceLifecycle admission plugin:
// nothing is created in a namespace that does not exist or is being
// terminated, and the namespaces the cluster needs are never deleted.
package namespacelifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "NamespaceLifecycle"

// ImmortalNamespaces may not be deleted, as upstream's defaults.
var ImmortalNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic}

// liveLookupTTL is how long after a namespace's deletion its state is read
// past the cache, which may still show it active.
const liveLookupTTL = 30 * time.Second

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// accessReviews show what someone may do in a namespace; answering "not
// found" for them would tell whether a namespace exists.
var accessReviews = schema.GroupResource{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}

// Plugin is the NamespaceLifecycle plugin.
type Plugin struct {
	admission.Handler
	objects  admission.Objects
	immortal map[string]bool
	now      func() time.Time

	mu   sync.Mutex
	live map[string]time.Time // namespace → until when to read it live
	// entries is len(live), read without the lock on every request.
	entries atomic.Int32
}

var _ admission.MutationInterface = &Plugin{}
var _ admission.ResourceSelector = &Plugin{}

// New returns the plugin reading namespaces from objects.
func New(objects admission.Objects, immortal []string) *Plugin {
	p := &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Delete),
		objects: objects, immortal: map[string]bool{}, now: time.Now, live: map[string]time.Time{}}
	for _, n := range immortal {
		p.immortal[n] = true
	}
	return p
}

// HandlesResource: namespaced resources and namespaces themselves.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Namespaced || isNamespaces(t.Resource)
}

func isNamespaces(gr schema.GroupResource) bool { return gr.Group == "" && gr.Resource == "namespaces" }

// Admit implements admission.MutationInterface.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	if isNamespaces(a.GroupResource()) {
		if a.Operation == admission.Delete && a.Subresource == "" {
			if p.immortal[a.Name] {
				return apierrors.NewForbidden(a.GroupResource(), a.Name, errors.New("this namespace may not be deleted"))
			}
			p.readLive(a.Name)
		}
		return nil
	}
	if a.Namespace == "" || a.Operation == admission.Delete || a.GroupResource() == accessReviews {
		return nil
	}
	ns, err := p.namespace(ctx, a.Namespace)
	if err != nil {
		return err
	}
	if a.Operation == admission.Create && terminating(ns) {
		err := apierrors.NewForbidden(a.GroupResource(), a.ObjectName(),
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", a.Namespace))
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
			Type: corev1.NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", a.Namespace), Field: "metadata.namespace"})
		return err
	}
	return nil
}

func terminating(ns *corev1.Namespace) bool {
	return ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil
}

// namespace reads the namespace from the cache, or past it when the cache has
// not seen it or may not have seen its deletion.
func (p *Plugin) namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	get := p.objects.Get
	if p.mustReadLive(name) {
		get = p.objects.Latest
	}
	obj, err := get(ctx, namespacesGVR, "", name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewNotFound(namespacesGVR.GroupResource(), name)
		}
		return nil, apierrors.NewInternalError(err)
	}
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("namespace %s is a %T", name, obj))
	}
	return ns, nil
}

func (p *Plugin) readLive(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	// Bounded, as upstream's LRU: expired entries go first, then all.
	if len(p.live) >= 100 {
		for k, until := range p.live {
			if now.After(until) {
				delete(p.live, k)
			}
		}
		if len(p.live) >= 100 {
			p.live = map[string]time.Time{}
		}
	}
	p.live[name] = now.Add(liveLookupTTL)
	p.entries.Store(int32(len(p.live)))
}

func (p *Plugin) mustReadLive(name string) bool {
	if p.entries.Load() == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.live[name]
	if ok && p.now().After(until) {
		delete(p.live, name)
		p.entries.Store(int32(len(p.live)))
		return false
	}
	return ok
}
