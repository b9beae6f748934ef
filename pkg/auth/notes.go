package auth

import (
	"context"
	"sync"
)

// Notes collect what authenticating a request has to say besides who the
// caller is: warnings for the client (Warning headers) and annotations for
// the audit log, as upstream's authenticators add them to the request context.
type Notes struct {
	mu          sync.Mutex
	warnings    []string
	annotations [][2]string
}

type notesKey struct{}

// WithNotes makes authenticators of requests under ctx note into n.
func WithNotes(ctx context.Context, n *Notes) context.Context {
	return context.WithValue(ctx, notesKey{}, n)
}

// NotesFrom returns the notes of a request context; nil (which drops what is
// noted) if none.
func NotesFrom(ctx context.Context) *Notes {
	n, _ := ctx.Value(notesKey{}).(*Notes)
	return n
}

// Warn adds a warning for the client, once.
func (n *Notes) Warn(msg string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, w := range n.warnings {
		if w == msg {
			return
		}
	}
	n.warnings = append(n.warnings, msg)
}

// Annotate adds an audit annotation.
func (n *Notes) Annotate(key, value string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.annotations = append(n.annotations, [2]string{key, value})
}

// Warnings returns the warnings noted so far.
func (n *Notes) Warnings() []string {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.warnings...)
}

// Annotations returns the audit annotations noted so far, as key and value.
func (n *Notes) Annotations() [][2]string {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([][2]string(nil), n.annotations...)
}
