package rbac

import (
	"sort"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// policy is the RBAC objects in memory, indexed so that a check looks only at
// the bindings naming the user or one of its groups: O(bindings of the user),
// not O(all bindings), and no allocation on the way.
type policy struct {
	mu           sync.RWMutex
	clusterRoles map[string]*rbacv1.ClusterRole
	roles        map[objectKey]*rbacv1.Role
	cluster      *bindingIndex            // ClusterRoleBindings
	namespaced   map[string]*bindingIndex // RoleBindings by namespace
}

type objectKey struct{ namespace, name string }

// binding is what a check needs of a RoleBinding or ClusterRoleBinding. The
// subjects slice is shared with the stored object, which is never mutated.
type binding struct {
	name      string
	namespace string // "" for a ClusterRoleBinding
	roleRef   rbacv1.RoleRef
	subjects  []rbacv1.Subject
}

// bindingIndex finds bindings by subject. Service accounts are indexed under
// their user name (system:serviceaccount:<ns>:<name>), which is how upstream
// matches them.
type bindingIndex struct {
	byName  map[string]*binding
	byUser  map[string][]*binding
	byGroup map[string][]*binding
}

func newPolicy() *policy {
	return &policy{
		clusterRoles: map[string]*rbacv1.ClusterRole{},
		roles:        map[objectKey]*rbacv1.Role{},
		cluster:      newBindingIndex(),
		namespaced:   map[string]*bindingIndex{},
	}
}

func newBindingIndex() *bindingIndex {
	return &bindingIndex{byName: map[string]*binding{}, byUser: map[string][]*binding{}, byGroup: map[string][]*binding{}}
}

// saUserName is the user name of a service account.
func saUserName(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

func (ix *bindingIndex) add(b *binding) {
	ix.remove(b.name)
	ix.byName[b.name] = b
	for i := range b.subjects {
		kind, key, ok := subjectKey(&b.subjects[i], b.namespace)
		if !ok {
			continue
		}
		m := ix.byUser
		if kind == rbacv1.GroupKind {
			m = ix.byGroup
		}
		if !containsBinding(m[key], b) {
			m[key] = append(m[key], b)
		}
	}
}

func (ix *bindingIndex) remove(name string) {
	old := ix.byName[name]
	if old == nil {
		return
	}
	delete(ix.byName, name)
	for i := range old.subjects {
		kind, key, ok := subjectKey(&old.subjects[i], old.namespace)
		if !ok {
			continue
		}
		m := ix.byUser
		if kind == rbacv1.GroupKind {
			m = ix.byGroup
		}
		list := m[key]
		out := list[:0:0]
		for _, b := range list {
			if b != old {
				out = append(out, b)
			}
		}
		if len(out) == 0 {
			delete(m, key)
		} else {
			m[key] = out
		}
	}
}

func containsBinding(list []*binding, b *binding) bool {
	for _, have := range list {
		if have == b {
			return true
		}
	}
	return false
}

// subjectKey says where a subject is indexed: users and service accounts by
// user name, groups by group name. A service account without a namespace in a
// ClusterRoleBinding matches no one, as upstream.
func subjectKey(s *rbacv1.Subject, bindingNamespace string) (kind, key string, ok bool) {
	switch s.Kind {
	case rbacv1.UserKind:
		return rbacv1.UserKind, s.Name, true
	case rbacv1.GroupKind:
		return rbacv1.GroupKind, s.Name, true
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns == "" {
			return "", "", false
		}
		return rbacv1.UserKind, saUserName(ns, s.Name), true
	}
	return "", "", false
}

// update records an RBAC object as it now is.
func (p *policy) update(obj runtime.Object) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		p.clusterRoles[o.Name] = o
	case *rbacv1.Role:
		p.roles[objectKey{o.Namespace, o.Name}] = o
	case *rbacv1.ClusterRoleBinding:
		p.cluster.add(&binding{name: o.Name, roleRef: o.RoleRef, subjects: o.Subjects})
	case *rbacv1.RoleBinding:
		ix := p.namespaced[o.Namespace]
		if ix == nil {
			ix = newBindingIndex()
			p.namespaced[o.Namespace] = ix
		}
		ix.add(&binding{name: o.Name, namespace: o.Namespace, roleRef: o.RoleRef, subjects: o.Subjects})
	}
}

// remove forgets an RBAC object.
func (p *policy) remove(obj runtime.Object) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		delete(p.clusterRoles, o.Name)
	case *rbacv1.Role:
		delete(p.roles, objectKey{o.Namespace, o.Name})
	case *rbacv1.ClusterRoleBinding:
		p.cluster.remove(o.Name)
	case *rbacv1.RoleBinding:
		if ix := p.namespaced[o.Namespace]; ix != nil {
			ix.remove(o.Name)
			if len(ix.byName) == 0 {
				delete(p.namespaced, o.Namespace)
			}
		}
	}
}

var (
	clusterRoleResource = schema.GroupResource{Group: rbacv1.GroupName, Resource: "clusterrole"}
	roleResource        = schema.GroupResource{Group: rbacv1.GroupName, Resource: "role"}
)

// roleRulesLocked returns the rules a role reference grants in a binding's
// namespace, or upstream's error for a missing role. Called with p.mu held.
func (p *policy) roleRulesLocked(ref rbacv1.RoleRef, bindingNamespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "ClusterRole":
		if r := p.clusterRoles[ref.Name]; r != nil {
			return r.Rules, nil
		}
		return nil, apierrors.NewNotFound(clusterRoleResource, ref.Name)
	case "Role":
		if r := p.roles[objectKey{bindingNamespace, ref.Name}]; r != nil {
			return r.Rules, nil
		}
		return nil, apierrors.NewNotFound(roleResource, ref.Name)
	}
	return nil, errUnsupportedKind(ref.Kind)
}

type errUnsupportedKind string

func (e errUnsupportedKind) Error() string {
	return "unsupported role reference kind: \"" + string(e) + "\""
}

// visitor hears of each binding that applies to a user with the rules it
// grants (nil and an error when its role is missing); returning false stops.
type visitor func(b *binding, rules []rbacv1.PolicyRule, err error) bool

// visitLocked walks the ClusterRoleBindings and then the namespace's
// RoleBindings that name the user, its service account or one of its groups.
// A binding naming the user twice (by name and by group) may be visited twice.
// Called with p.mu held for reading.
func (p *policy) visitLocked(userName string, groups []string, namespace string, fn visitor) bool {
	if !p.cluster.visit(p, userName, groups, fn) {
		return false
	}
	if namespace == "" {
		return true
	}
	if ix := p.namespaced[namespace]; ix != nil {
		return ix.visit(p, userName, groups, fn)
	}
	return true
}

func (ix *bindingIndex) visit(p *policy, userName string, groups []string, fn visitor) bool {
	for _, b := range ix.byUser[userName] {
		rules, err := p.roleRulesLocked(b.roleRef, b.namespace)
		if !fn(b, rules, err) {
			return false
		}
	}
	for _, g := range groups {
		for _, b := range ix.byGroup[g] {
			rules, err := p.roleRulesLocked(b.roleRef, b.namespace)
			if !fn(b, rules, err) {
				return false
			}
		}
	}
	return true
}

// bindingsFor lists, once each and in a stable order, the bindings that apply
// to a user: cluster-wide ones first, then the namespace's.
func (p *policy) bindingsForLocked(userName string, groups []string, namespace string) []*binding {
	seen := map[*binding]bool{}
	var cluster, local []*binding
	p.visitLocked(userName, groups, namespace, func(b *binding, _ []rbacv1.PolicyRule, _ error) bool {
		if !seen[b] {
			seen[b] = true
			if b.namespace == "" {
				cluster = append(cluster, b)
			} else {
				local = append(local, b)
			}
		}
		return true
	})
	byName := func(list []*binding) {
		sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	}
	byName(cluster)
	byName(local)
	return append(cluster, local...)
}
