package admission

import (
	"context"
	"sync"
)

// Named is a plugin with its upstream name (NamespaceLifecycle, LimitRanger, ...).
type Named struct {
	Name   string
	Plugin Interface
}

// Chain runs plugins in their order: every mutating plugin that handles a
// request in Admit, then every validating one in Validate.
type Chain struct {
	plugins []Named
	// selections caches, per selKey, the plugins that act there.
	selections sync.Map
}

type selKey struct {
	group, resource, subresource string
	namespaced                   bool
	op                           Operation
}

// selection is the plugins of one selKey, in chain order.
type selection struct {
	mutators   []MutationInterface
	validators []ValidationInterface
}

// NewChain builds a chain of plugins in the order given.
func NewChain(plugins ...Named) *Chain {
	return &Chain{plugins: plugins}
}

// Names lists the chain's plugins in order.
func (c *Chain) Names() []string {
	out := make([]string, len(c.plugins))
	for i, p := range c.plugins {
		out[i] = p.Name
	}
	return out
}

// Plugin returns the plugin of that name, or nil.
func (c *Chain) Plugin(name string) Interface {
	for _, p := range c.plugins {
		if p.Name == name {
			return p.Plugin
		}
	}
	return nil
}

func (c *Chain) selectionFor(t Target, op Operation) *selection {
	key := selKey{group: t.Resource.Group, resource: t.Resource.Resource, subresource: t.Subresource, namespaced: t.Namespaced, op: op}
	if s, ok := c.selections.Load(key); ok {
		return s.(*selection)
	}
	s := &selection{}
	for _, p := range c.plugins {
		if !p.Plugin.Handles(op) {
			continue
		}
		if rs, ok := p.Plugin.(ResourceSelector); ok && !rs.HandlesResource(t) {
			continue
		}
		if m, ok := p.Plugin.(MutationInterface); ok {
			s.mutators = append(s.mutators, m)
		}
		if v, ok := p.Plugin.(ValidationInterface); ok {
			s.validators = append(s.validators, v)
		}
	}
	c.selections.Store(key, s)
	return s
}

// Mutates reports whether any plugin would run in the mutating phase of such
// a request; callers skip building attributes when none would.
func (c *Chain) Mutates(t Target, op Operation) bool {
	return c != nil && len(c.selectionFor(t, op).mutators) > 0
}

// Validates is Mutates for the validating phase.
func (c *Chain) Validates(t Target, op Operation) bool {
	return c != nil && len(c.selectionFor(t, op).validators) > 0
}

// Admit runs the mutating phase; the first refusal ends it.
func (c *Chain) Admit(ctx context.Context, a *Attributes) error {
	if c == nil {
		return nil
	}
	for _, m := range c.selectionFor(a.target(), a.Operation).mutators {
		if err := m.Admit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// Validate runs the validating phase; the first refusal ends it.
func (c *Chain) Validate(ctx context.Context, a *Attributes) error {
	if c == nil {
		return nil
	}
	for _, v := range c.selectionFor(a.target(), a.Operation).validators {
		if err := v.Validate(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func (a *Attributes) target() Target {
	return Target{Resource: a.Resource.GroupResource(), Subresource: a.Subresource, Namespaced: a.Namespaced}
}
