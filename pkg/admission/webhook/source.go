package webhook

import (
	"sort"
	"sync"
	"sync/atomic"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

var (
	mutatingConfigsGVR   = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}
	validatingConfigsGVR = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}
)

// Source holds the webhook configurations as the storage cache has them and
// compiles them into a snapshot after each change, on the first request that
// follows it. A request reads the current snapshot without a lock.
type Source struct {
	reg     *registry.Registry
	clients *clientCache

	startOnce sync.Once
	mu        sync.Mutex
	mutating  map[string]*admissionregv1.MutatingWebhookConfiguration
	validate  map[string]*admissionregv1.ValidatingWebhookConfiguration
	dirty     atomic.Bool
	current   atomic.Pointer[snapshot]
}

// NewSource returns a source fed from reg's stores of the two configuration
// resources (nil reg: only what Set gives), calling webhooks with clients
// that resolve service references through resolver.
func NewSource(reg *registry.Registry, resolver ServiceResolver) *Source {
	return &Source{reg: reg, clients: newClientCache(resolver),
		mutating: map[string]*admissionregv1.MutatingWebhookConfiguration{},
		validate: map[string]*admissionregv1.ValidatingWebhookConfiguration{}}
}

// start hears of the configurations' changes from the storage cache. It runs
// on first use: the stores are started by then.
func (s *Source) start() {
	if s.reg == nil {
		return
	}
	observe := func(gvr schema.GroupVersionResource) {
		res := s.reg.Get(gvr)
		if res == nil || res.Store == nil {
			return
		}
		// Observers run with the store locked: record and mark dirty only.
		res.Store.Observe(func(e *storage.Event) { s.apply(e.Type, e.Object) })
	}
	observe(mutatingConfigsGVR)
	observe(validatingConfigsGVR)
}

// apply records one change of a configuration.
func (s *Source) apply(t watch.EventType, obj any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c := obj.(type) {
	case *admissionregv1.MutatingWebhookConfiguration:
		if t == watch.Deleted {
			delete(s.mutating, c.Name)
		} else {
			s.mutating[c.Name] = c
		}
	case *admissionregv1.ValidatingWebhookConfiguration:
		if t == watch.Deleted {
			delete(s.validate, c.Name)
		} else {
			s.validate[c.Name] = c
		}
	default:
		return
	}
	s.dirty.Store(true)
}

// Set adds or replaces configurations (tests, and callers without storage).
func (s *Source) Set(configs ...any) {
	for _, c := range configs {
		s.apply(watch.Modified, c)
	}
}

// Delete removes a configuration (tests).
func (s *Source) Delete(config any) { s.apply(watch.Deleted, config) }

// snapshot returns the current compiled configurations.
func (s *Source) snapshot() *snapshot {
	s.startOnce.Do(s.start)
	if s.dirty.Load() {
		s.rebuild()
	}
	return s.current.Load()
}

// rebuild compiles the configurations, ordered by name as upstream calls them.
func (s *Source) rebuild() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty.Load() {
		return
	}
	s.dirty.Store(false)
	snap := &snapshot{versions: s.servedVersions}
	for _, name := range sortedKeys(s.mutating) {
		snap.mutating = append(snap.mutating, mutatingHooks(s.mutating[name])...)
	}
	for _, name := range sortedKeys(s.validate) {
		snap.validating = append(snap.validating, validatingHooks(s.validate[name])...)
	}
	all := append(append([]*hook(nil), snap.mutating...), snap.validating...)
	s.clients.assign(all)
	s.current.Store(snap)
}

// servedVersions lists the versions group/resource is served in.
func (s *Source) servedVersions(group, resource string) []string {
	if s.reg == nil {
		return nil
	}
	var out []string
	for _, r := range s.reg.All() {
		if r.Group == group && r.Name == resource {
			out = append(out, r.Version)
		}
	}
	return out
}

func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
