package apiserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRequestsOverTheCapAreRefused(t *testing.T) {
	l := newInflight(1, 1)
	alice := &User{Name: "alice", Groups: []string{GroupAuthenticated}}
	admin := &User{Name: "admin", Groups: []string{GroupMasters, GroupAuthenticated}}
	get := &requestInfo{Verb: "get", Resource: "pods"}
	create := &requestInfo{Verb: "create", Resource: "pods"}

	releaseRead, ok := l.acquire(get, alice)
	if !ok {
		t.Fatal("the first read was refused")
	}
	if _, ok := l.acquire(get, alice); ok {
		t.Error("a second read over a cap of one was served")
	}
	if _, ok := l.acquire(&requestInfo{Verb: "watch", Resource: "pods"}, alice); !ok {
		t.Error("a watch was refused: long-running requests are not counted")
	}
	if _, ok := l.acquire(&requestInfo{Verb: "create", Resource: "pods", Subresource: "exec"}, alice); !ok {
		t.Error("an exec was refused: long-running requests are not counted")
	}
	if _, ok := l.acquire(get, admin); !ok {
		t.Error("system:masters was refused")
	}
	releaseWrite, ok := l.acquire(create, alice)
	if !ok {
		t.Fatal("a write was refused while only reads were in flight")
	}
	if _, ok := l.acquire(&requestInfo{Verb: "delete", Resource: "pods"}, alice); ok {
		t.Error("a second write over a cap of one was served")
	}
	releaseRead()
	releaseWrite()
	if _, ok := l.acquire(get, alice); !ok {
		t.Error("a read was refused once the slot was given back")
	}
	if _, ok := newInflight(0, 0).acquire(get, alice); !ok {
		t.Error("no cap refused a request")
	}
}

func TestTooManyRequestsReadsAsUpstream(t *testing.T) {
	w := httptest.NewRecorder()
	writeTooManyRequests(w, httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("code %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	var st metav1.Status
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Reason != metav1.StatusReasonTooManyRequests || st.Message != "Too many requests, please try again later." {
		t.Errorf("status %+v", st)
	}
}
