package webhook

import (
	"sync"
)

// snapshot is the compiled webhook configurations at one moment. It is never
// changed once built but for its memo of matches per target.
type snapshot struct {
	mutating, validating []*hook
	// versions lists the served versions of a group's resource (for
	// matchPolicy Equivalent).
	versions func(group, resource string) []string
	matches  sync.Map // target → *matched
}

// matched is the hooks whose rules match one target, in call order.
type matched struct{ mutating, validating []*hook }

var noMatch = &matched{}

// empty reports whether there is no webhook at all.
func (s *snapshot) empty() bool { return s == nil || len(s.mutating) == 0 && len(s.validating) == 0 }

// match returns the hooks whose rules match t: a map lookup once computed.
func (s *snapshot) match(t target) *matched {
	if s.empty() {
		return noMatch
	}
	if m, ok := s.matches.Load(t); ok {
		return m.(*matched)
	}
	var other []string
	if s.versions != nil {
		other = s.versions(t.group, t.resource)
	}
	m := &matched{}
	for _, h := range s.mutating {
		if hookMatches(h, t, other) {
			m.mutating = append(m.mutating, h)
		}
	}
	for _, h := range s.validating {
		if hookMatches(h, t, other) {
			m.validating = append(m.validating, h)
		}
	}
	if len(m.mutating) == 0 && len(m.validating) == 0 {
		m = noMatch
	}
	s.matches.Store(t, m)
	return m
}
