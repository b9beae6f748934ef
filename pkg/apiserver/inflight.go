package apiserver

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// inflight caps the requests served at once, as upstream's
// --max-requests-inflight and --max-mutating-requests-inflight do: a request
// over the cap is answered 429 at once rather than queued, so a flood cannot
// pile up goroutines and memory. Long-running requests (watches, exec, logs,
// proxies) are not counted, and system:masters is never refused, as upstream.
type inflight struct {
	reads, writes chan struct{}
}

func newInflight(maxReads, maxWrites int) *inflight {
	l := &inflight{}
	if maxReads > 0 {
		l.reads = make(chan struct{}, maxReads)
	}
	if maxWrites > 0 {
		l.writes = make(chan struct{}, maxWrites)
	}
	return l
}

// acquire takes a slot for the request; ok is false when none is free. release
// gives it back.
func (l *inflight) acquire(info *requestInfo, u *User) (release func(), ok bool) {
	if l == nil || isLongRunning(info) {
		return func() {}, true
	}
	slots := l.reads
	switch info.Verb {
	case "create", "update", "patch", "delete", "deletecollection":
		slots = l.writes
	}
	if slots == nil {
		return func() {}, true
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, true
	default:
	}
	// A super-user (or the server's own loopback clients) always gets an answer.
	if u != nil {
		for _, g := range u.Groups {
			if g == GroupMasters {
				return func() {}, true
			}
		}
	}
	return nil, false
}

// writeTooManyRequests is upstream's answer to a request over the cap.
func writeTooManyRequests(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	writeError(w, r, apierrors.NewTooManyRequests("Too many requests, please try again later.", 1))
}
