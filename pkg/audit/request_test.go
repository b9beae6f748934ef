package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

type memBackend struct {
	mu     sync.Mutex
	events []*auditv1.Event
}

func (m *memBackend) ProcessEvent(ev *auditv1.Event) {
	m.mu.Lock()
	m.events = append(m.events, ev)
	m.mu.Unlock()
}

func mustPolicy(t *testing.T, level auditv1.Level, omit ...auditv1.Stage) *Policy {
	t.Helper()
	p, err := NewPolicy(auditv1.Policy{OmitStages: omit, Rules: []auditv1.PolicyRule{{Level: level}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lastRequest is the request serve began last.
var lastRequest *Request

// serve runs one request through an auditor the way the API server does.
func serve(t *testing.T, a *Auditor, r *http.Request, attrs *authorizer.Attributes, longRunning bool, h http.HandlerFunc) {
	t.Helper()
	w := httptest.NewRecorder()
	u := &auth.User{Name: "alice", Groups: []string{"dev"}}
	q, r := a.Begin(w, r, attrs, u, u, time.Now())
	lastRequest = q
	q.Authorized(true, `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "edit" to User "alice"`)
	rw := q.Writer(w, longRunning)
	h(rw, r)
	q.End(rw, false)
}

func TestRequestResponseRecordsBothBodiesAndTheDecision(t *testing.T) {
	b := &memBackend{}
	a := NewAuditor(mustPolicy(t, auditv1.LevelRequestResponse), b)
	r := httptest.NewRequest("POST", "/api/v1/namespaces/ns/configmaps", strings.NewReader(`{"kind":"ConfigMap","metadata":{"name":"c"}}`))
	r.Header.Set("Content-Type", "application/json")
	serve(t, a, r, &authorizer.Attributes{Verb: "create", IsResource: true, Resource: "configmaps", Namespace: "ns", Version: "v1"}, false,
		func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			w.Write([]byte(`{"kind":"ConfigMap","metadata":{"name":"c","uid":"u1"}}`))
		})
	if len(b.events) != 2 || b.events[0].Stage != auditv1.StageRequestReceived || b.events[1].Stage != auditv1.StageResponseComplete {
		t.Fatalf("events %v", stages(b.events))
	}
	done := b.events[1]
	if done.ResponseStatus.Code != 201 || done.Verb != "create" || done.User.Username != "alice" || done.ObjectRef.Resource != "configmaps" {
		t.Fatalf("event %+v", done)
	}
	if string(done.RequestObject.Raw) != `{"kind":"ConfigMap","metadata":{"name":"c"}}` || !strings.Contains(string(done.ResponseObject.Raw), `"uid":"u1"`) {
		t.Fatalf("bodies %s / %s", done.RequestObject.Raw, done.ResponseObject.Raw)
	}
	if done.Annotations[DecisionAnnotation] != "allow" || !strings.Contains(done.Annotations[ReasonAnnotation], "ClusterRole \"edit\"") {
		t.Fatalf("annotations %v", done.Annotations)
	}
	if done.AuditID == "" || done.AuditID != b.events[0].AuditID {
		t.Fatal("the stages of one request do not share an audit ID")
	}
	line, _ := json.Marshal(done)
	if !strings.Contains(string(line), `"requestObject":{"kind":"ConfigMap"`) {
		t.Fatalf("the request body is not inlined as JSON: %s", line)
	}
}

func TestMetadataLeavesBodiesOutAndOmitStagesAreHonoured(t *testing.T) {
	b := &memBackend{}
	a := NewAuditor(mustPolicy(t, auditv1.LevelMetadata, auditv1.StageRequestReceived), b)
	r := httptest.NewRequest("PUT", "/api/v1/namespaces/ns/secrets/s", strings.NewReader(`{"data":{"k":"c2VjcmV0"}}`))
	r.Header.Set("Content-Type", "application/json")
	serve(t, a, r, &authorizer.Attributes{Verb: "update", IsResource: true, Resource: "secrets", Namespace: "ns", Name: "s"}, false,
		func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Write([]byte(`{"kind":"Secret"}`))
		})
	if len(b.events) != 1 || b.events[0].Stage != auditv1.StageResponseComplete {
		t.Fatalf("events %v, want ResponseComplete only", stages(b.events))
	}
	if b.events[0].RequestObject != nil || b.events[0].ResponseObject != nil {
		t.Fatal("a Metadata event carries a body")
	}
}

func TestAWatchRecordsResponseStartedWhenItsHeadersGoOut(t *testing.T) {
	b := &memBackend{}
	a := NewAuditor(mustPolicy(t, auditv1.LevelMetadata), b)
	r := httptest.NewRequest("GET", "/api/v1/pods?watch=true", nil)
	serve(t, a, r, &authorizer.Attributes{Verb: "watch", IsResource: true, Resource: "pods"}, true,
		func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			w.Write([]byte(`{"type":"ADDED"}`))
		})
	if got := stages(b.events); got != "RequestReceived,ResponseStarted,ResponseComplete" {
		t.Fatalf("stages %s", got)
	}
}

func TestAForbiddenRequestCarriesTheStatusAndTheDecision(t *testing.T) {
	b := &memBackend{}
	a := NewAuditor(mustPolicy(t, auditv1.LevelMetadata), b)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/api/v1/secrets", nil)
	u := &auth.User{Name: "bob"}
	q, r := a.Begin(w, r, &authorizer.Attributes{User: u, Verb: "list", IsResource: true, Resource: "secrets"}, u, u, time.Now())
	q.Authorized(false, "")
	rw := q.Writer(w, false)
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(403)
	rw.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"secrets is forbidden: User \"bob\" cannot list resource \"secrets\"","reason":"Forbidden","code":403}`))
	q.End(rw, false)
	done := b.events[len(b.events)-1]
	if done.ResponseStatus.Code != 403 || done.ResponseStatus.Reason != "Forbidden" || done.Annotations[DecisionAnnotation] != "forbid" {
		t.Fatalf("event %+v", done)
	}
	if w.Header().Get("Audit-Id") == "" {
		t.Fatal("no Audit-Id response header")
	}
}

func TestNoneRecordsNothing(t *testing.T) {
	b := &memBackend{}
	a := NewAuditor(mustPolicy(t, auditv1.LevelNone), b)
	q, _ := a.Begin(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), &authorizer.Attributes{Verb: "get"}, nil, nil, time.Now())
	if q != nil || len(b.events) != 0 {
		t.Fatal("a None request was audited")
	}
	// A nil request is safe to use, so callers need no checks.
	q.Authorized(true, "")
	q.End(q.Writer(httptest.NewRecorder(), false), false)
}

func stages(evs []*auditv1.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, string(e.Stage))
	}
	return strings.Join(s, ",")
}

func TestProtobufBodiesAreLoggedAsJSON(t *testing.T) {
	b := &memBackend{}
	a := NewAuditor(mustPolicy(t, auditv1.LevelRequest), b)
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "from-proto"}}
	var buf bytes.Buffer
	if err := protoCodec.Encode(cm, &buf); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/api/v1/namespaces/ns/configmaps", &buf)
	r.Header.Set("Content-Type", "application/vnd.kubernetes.protobuf")
	serve(t, a, r, &authorizer.Attributes{Verb: "create", IsResource: true, Resource: "configmaps"}, false,
		func(w http.ResponseWriter, r *http.Request) { io.ReadAll(r.Body); w.WriteHeader(201) })
	obj := b.events[len(b.events)-1].RequestObject
	if obj == nil || !strings.Contains(string(obj.Raw), `"name":"from-proto"`) || !strings.Contains(string(obj.Raw), `"kind":"ConfigMap"`) {
		t.Fatalf("request object %v", obj)
	}
}

func TestAdmissionAnnotationsAddedThroughTheContextReachTheFinalEvent(t *testing.T) {
	b := &memBackend{}
	a := NewAuditor(mustPolicy(t, auditv1.LevelMetadata), b)
	r := httptest.NewRequest("POST", "/api/v1/namespaces/ns/pods", nil)
	serve(t, a, r, &authorizer.Attributes{Verb: "create", IsResource: true, Resource: "pods", Namespace: "ns", Version: "v1"}, false,
		func(w http.ResponseWriter, r *http.Request) {
			if RequestFrom(r.Context()) != nil {
				t.Error("a request without WithRequest has an audited request")
			}
			q := RequestFrom(WithRequest(r.Context(), lastRequest))
			q.AddAnnotation("hook.example.com/key", "value")
			q.AddAnnotation("hook.example.com/key", "second value is dropped")
			w.WriteHeader(201)
		})
	done := b.events[len(b.events)-1]
	if done.Annotations["hook.example.com/key"] != "value" {
		t.Fatalf("annotations %v", done.Annotations)
	}
}
