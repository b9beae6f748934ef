package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Annotations the authorizer's decision is recorded under, as upstream names them.
const (
	DecisionAnnotation = "authorization.k8s.io/decision"
	ReasonAnnotation   = "authorization.k8s.io/reason"
)

// maxBody bounds a logged request or response body; larger ones are left out.
const maxBody = 1 << 20

// Auditor decides what to record of each request and hands events to a backend.
type Auditor struct {
	policy  *Policy
	backend Backend
	now     func() time.Time
}

// NewAuditor audits with policy into backend.
func NewAuditor(policy *Policy, backend Backend) *Auditor {
	return &Auditor{policy: policy, backend: backend, now: time.Now}
}

// Request is one request being audited.
type Request struct {
	a    *Auditor
	rule RuleResult

	mu      sync.Mutex
	ev      auditv1.Event
	reqBody *limitedBuffer
	reqType string
	started bool
}

// Begin starts auditing a request whose caller is known. requester is who
// authenticated; user is who the request acts as (differs when impersonating).
// It returns nil when the policy records nothing of it.
func (a *Auditor) Begin(w http.ResponseWriter, r *http.Request, attrs *authorizer.Attributes, requester, user *auth.User, received time.Time) (*Request, *http.Request) {
	if a == nil {
		return nil, r
	}
	rule := a.policy.Evaluate(attrs)
	if rule.Level == auditv1.LevelNone {
		return nil, r
	}
	q := &Request{a: a, rule: rule}
	q.ev = auditv1.Event{
		Level:                    rule.Level,
		AuditID:                  auditID(r),
		RequestURI:               r.URL.RequestURI(),
		Verb:                     attrs.Verb,
		User:                     userInfo(requester),
		SourceIPs:                sourceIPs(r),
		UserAgent:                r.UserAgent(),
		RequestReceivedTimestamp: metav1.NewMicroTime(received),
	}
	if user != requester && user != nil {
		u := userInfo(user)
		q.ev.ImpersonatedUser = &u
	}
	if attrs.IsResource {
		q.ev.ObjectRef = &auditv1.ObjectReference{Resource: attrs.Resource, Namespace: attrs.Namespace, Name: attrs.Name,
			APIGroup: attrs.Group, APIVersion: attrs.Version, Subresource: attrs.Subresource}
	}
	w.Header().Set(auditv1.HeaderAuditID, string(q.ev.AuditID))
	if rule.Level != auditv1.LevelMetadata && r.Body != nil && r.Body != http.NoBody && loggable(r.Header.Get("Content-Type")) {
		q.reqBody = &limitedBuffer{max: maxBody}
		q.reqType = r.Header.Get("Content-Type")
		r.Body = teeBody{Reader: io.TeeReader(r.Body, q.reqBody), Closer: r.Body}
	}
	q.emit(auditv1.StageRequestReceived)
	return q, r
}

// FailedAuthentication records a request refused with 401, as upstream does,
// in a ResponseStarted event.
func (a *Auditor) FailedAuthentication(w http.ResponseWriter, r *http.Request, attrs *authorizer.Attributes, received time.Time) {
	if a == nil {
		return
	}
	rule := a.policy.Evaluate(attrs)
	if rule.Level == auditv1.LevelNone || slices.Contains(rule.OmitStages, auditv1.StageResponseStarted) {
		return
	}
	ev := &auditv1.Event{
		Level: rule.Level, AuditID: auditID(r), Stage: auditv1.StageResponseStarted,
		RequestURI: r.URL.RequestURI(), Verb: attrs.Verb, SourceIPs: sourceIPs(r), UserAgent: r.UserAgent(),
		ResponseStatus:           &metav1.Status{Status: metav1.StatusFailure, Message: "Authentication failed, invalid credentials", Reason: metav1.StatusReasonUnauthorized, Code: http.StatusUnauthorized},
		RequestReceivedTimestamp: metav1.NewMicroTime(received),
		StageTimestamp:           metav1.NewMicroTime(a.now()),
	}
	w.Header().Set(auditv1.HeaderAuditID, string(ev.AuditID))
	a.backend.ProcessEvent(ev)
}

// Authorized records the authorizer's answer.
func (q *Request) Authorized(allowed bool, reason string) {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ev.Annotations == nil {
		q.ev.Annotations = map[string]string{}
	}
	q.ev.Annotations[DecisionAnnotation] = "forbid"
	if allowed {
		q.ev.Annotations[DecisionAnnotation] = "allow"
	}
	if reason != "" {
		q.ev.Annotations[ReasonAnnotation] = reason
	}
}

// AddAnnotation records an annotation of the request (admission plugins'),
// written with the events that follow.
func (q *Request) AddAnnotation(key, value string) {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ev.Annotations == nil {
		q.ev.Annotations = map[string]string{}
	}
	if _, ok := q.ev.Annotations[key]; !ok {
		q.ev.Annotations[key] = value
	}
}

type requestKey struct{}

// WithRequest returns ctx carrying q, for the handlers to annotate it.
func WithRequest(ctx context.Context, q *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, q)
}

// RequestFrom returns the audited request of ctx, or nil.
func RequestFrom(ctx context.Context) *Request {
	q, _ := ctx.Value(requestKey{}).(*Request)
	return q
}

// Writer wraps the response writer to see the status and, at RequestResponse,
// the body. A long-running request (watch, exec, proxy) records ResponseStarted
// once its headers go out.
func (q *Request) Writer(w http.ResponseWriter, longRunning bool) *ResponseWriter {
	return &ResponseWriter{ResponseWriter: w, q: q, longRunning: longRunning}
}

// End records ResponseComplete (or Panic) with what the writer saw.
func (q *Request) End(rw *ResponseWriter, panicked bool) {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	code := rw.code
	if code == 0 {
		code = http.StatusOK
	}
	st := &metav1.Status{Code: int32(code)}
	if code >= 400 {
		// An error body is the API's Status: keep its reason and message.
		var body metav1.Status
		if rw.body != nil && json.Unmarshal(bodyJSON(rw.Header().Get("Content-Type"), rw.body.Bytes()), &body) == nil && body.Kind == "Status" {
			st = &metav1.Status{Status: body.Status, Message: body.Message, Reason: body.Reason, Details: body.Details, Code: int32(code)}
		} else {
			st.Status = metav1.StatusFailure
		}
	}
	q.ev.ResponseStatus = st
	if q.rule.Level != auditv1.LevelMetadata && q.reqBody != nil && !q.reqBody.over {
		q.ev.RequestObject = q.object(q.reqType, q.reqBody.Bytes())
	}
	if q.rule.Level == auditv1.LevelRequestResponse && rw.body != nil && !rw.body.over && loggable(rw.Header().Get("Content-Type")) && !rw.longRunning {
		q.ev.ResponseObject = q.object(rw.Header().Get("Content-Type"), rw.body.Bytes())
	}
	if panicked {
		q.ev.ResponseStatus = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: "APIServer panic'd"}
		q.emitLocked(auditv1.StagePanic)
		return
	}
	if rw.longRunning && !q.started {
		q.started = true
		q.emitLocked(auditv1.StageResponseStarted)
	}
	q.emitLocked(auditv1.StageResponseComplete)
}

func (q *Request) emit(stage auditv1.Stage) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.emitLocked(stage)
}

func (q *Request) emitLocked(stage auditv1.Stage) {
	if slices.Contains(q.rule.OmitStages, stage) {
		return
	}
	ev := q.ev.DeepCopy()
	ev.Stage = stage
	ev.StageTimestamp = metav1.NewMicroTime(q.a.now())
	q.a.backend.ProcessEvent(ev)
}

// object wraps a JSON body for the event, without managed fields if asked.
func (q *Request) object(contentType string, body []byte) *runtime.Unknown {
	if body = bodyJSON(contentType, body); body == nil {
		return nil
	}
	if q.rule.OmitManagedFields {
		body = withoutManagedFields(body)
	}
	return &runtime.Unknown{Raw: body, ContentType: runtime.ContentTypeJSON}
}

func withoutManagedFields(body []byte) []byte {
	var obj map[string]any
	if json.Unmarshal(body, &obj) != nil {
		return body
	}
	strip := func(o map[string]any) {
		if md, ok := o["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
	}
	strip(obj)
	if items, ok := obj["items"].([]any); ok {
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				strip(m)
			}
		}
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

// ResponseWriter records what an audited request answers.
type ResponseWriter struct {
	http.ResponseWriter
	q           *Request
	longRunning bool
	code        int
	body        *limitedBuffer
}

func (w *ResponseWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
		w.headersSent()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *ResponseWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
		w.headersSent()
	}
	if w.q != nil && !w.longRunning && (w.q.rule.Level == auditv1.LevelRequestResponse || w.code >= 400) {
		if w.body == nil {
			w.body = &limitedBuffer{max: maxBody}
		}
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *ResponseWriter) headersSent() {
	if w.q == nil || !w.longRunning {
		return
	}
	w.q.mu.Lock()
	defer w.q.mu.Unlock()
	if !w.q.started {
		w.q.started = true
		w.q.ev.ResponseStatus = &metav1.Status{Code: int32(w.code)}
		w.q.emitLocked(auditv1.StageResponseStarted)
	}
}

func (w *ResponseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to an upgrader (exec, attach over WebSockets).
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("connection cannot be taken over: %w", http.ErrNotSupported)
	}
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
		w.headersSent()
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *ResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitedBuffer keeps at most max bytes and notes when more came.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.over || b.Len()+len(p) > b.max {
		b.over = true
		b.Reset()
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

type teeBody struct {
	io.Reader
	io.Closer
}

// auditID is the caller's Audit-ID if it sent one, else a new UUID.
func auditID(r *http.Request) types.UID {
	if id := r.Header.Get(auditv1.HeaderAuditID); id != "" && len(id) <= 64 {
		return types.UID(id)
	}
	return types.UID(uuid.NewString())
}

func userInfo(u *auth.User) authnv1.UserInfo {
	if u == nil {
		return authnv1.UserInfo{}
	}
	out := authnv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		out.Extra = map[string]authnv1.ExtraValue{}
		for k, v := range u.Extra {
			out.Extra[k] = v
		}
	}
	return out
}

// sourceIPs lists X-Forwarded-For, X-Real-Ip, then the peer, as upstream does.
func sourceIPs(r *http.Request) []string {
	var ips []string
	if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
		for _, p := range strings.Split(fwd, ",") {
			if ip := net.ParseIP(strings.TrimSpace(p)); ip != nil {
				ips = append(ips, ip.String())
			}
		}
	}
	if ip := net.ParseIP(strings.TrimSpace(r.Header.Get("X-Real-Ip"))); ip != nil && !slices.Contains(ips, ip.String()) {
		ips = append(ips, ip.String())
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && !slices.Contains(ips, ip.String()) {
		ips = append(ips, ip.String())
	}
	return ips
}
