package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func listCMs(t *testing.T, ns, query string) *corev1.ConfigMapList {
	t.Helper()
	l := &corev1.ConfigMapList{}
	call(t, "GET", "/api/v1/namespaces/"+ns+"/configmaps"+query, nil).must(t, http.StatusOK).into(t, l)
	return l
}

func cmNames(l *corev1.ConfigMapList) []string {
	out := []string{}
	for _, c := range l.Items {
		out = append(out, c.Name)
	}
	return out
}

func TestListPagingAndResourceVersions(t *testing.T) {
	ns := uniqueName("paging")
	call(t, "POST", "/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+ns+`"}}`).must(t, http.StatusCreated)
	path := "/api/v1/namespaces/" + ns + "/configmaps"
	var rvs []string
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		out := &corev1.ConfigMap{}
		call(t, "POST", path, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+n+`","labels":{"l":"`+n+`"}}}`).
			must(t, http.StatusCreated).into(t, out)
		rvs = append(rvs, out.ResourceVersion)
	}

	l := listCMs(t, ns, "?limit=2")
	if got := cmNames(l); !reflect.DeepEqual(got, []string{"a", "b"}) || l.Continue == "" ||
		l.RemainingItemCount == nil || *l.RemainingItemCount != 3 {
		t.Fatalf("first page %v continue %q remaining %v", got, l.Continue, l.RemainingItemCount)
	}
	if l.Kind != "ConfigMapList" || l.APIVersion != "v1" {
		t.Errorf("list kind %q apiVersion %q", l.Kind, l.APIVersion)
	}
	first := l.ResourceVersion
	call(t, "DELETE", path+"/d", nil).must(t, http.StatusOK)
	l = listCMs(t, ns, "?limit=2&continue="+url.QueryEscape(l.Continue))
	if got := cmNames(l); !reflect.DeepEqual(got, []string{"c", "d"}) || l.ResourceVersion != first {
		t.Fatalf("second page %v at %s, want c, d at %s", got, l.ResourceVersion, first)
	}
	l = listCMs(t, ns, "?limit=2&continue="+url.QueryEscape(l.Continue))
	if got := cmNames(l); !reflect.DeepEqual(got, []string{"e"}) || l.Continue != "" || l.RemainingItemCount != nil {
		t.Fatalf("last page %v continue %q remaining %v", got, l.Continue, l.RemainingItemCount)
	}

	// resourceVersion with continue is a bad request, as upstream's storage answers.
	st := call(t, "GET", path+"?limit=2&resourceVersion="+first+"&continue="+url.QueryEscape(listCMs(t, ns, "?limit=1").Continue), nil).
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if st.Message != "specifying resource version is not allowed when using continue" {
		t.Errorf("message %q", st.Message)
	}
	st = call(t, "GET", path+"?resourceVersionMatch=Exact", nil).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}

	// Exact: the list as it was, d included.
	l = listCMs(t, ns, "?resourceVersionMatch=Exact&resourceVersion="+first)
	if got := cmNames(l); !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e"}) || l.ResourceVersion != first {
		t.Fatalf("exact list %v at %s", got, l.ResourceVersion)
	}
	// NotOlderThan (and a plain resourceVersion): the present.
	for _, q := range []string{"?resourceVersionMatch=NotOlderThan&resourceVersion=" + rvs[0], "?resourceVersion=" + rvs[0], "", "?resourceVersion=0"} {
		if got := cmNames(listCMs(t, ns, q)); !reflect.DeepEqual(got, []string{"a", "b", "c", "e"}) {
			t.Errorf("list %s: %v", q, got)
		}
	}
	// A paged list at a resourceVersion without a match rule is exact, upstream's
	// legacy rule that clients resuming a paged list rely on.
	l = listCMs(t, ns, "?limit=10&resourceVersion="+first)
	if got := cmNames(l); !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e"}) || l.ResourceVersion != first {
		t.Fatalf("paged list at %s without resourceVersionMatch: %v at %s", first, cmNames(l), l.ResourceVersion)
	}
	// Selectors.
	if got := cmNames(listCMs(t, ns, "?labelSelector="+url.QueryEscape("l in (a,e)"))); !reflect.DeepEqual(got, []string{"a", "e"}) {
		t.Errorf("label selector: %v", got)
	}
	if got := cmNames(listCMs(t, ns, "?fieldSelector=metadata.name%3Db")); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("field selector: %v", got)
	}
	st = call(t, "GET", path+"?fieldSelector=spec.nodeName%3Dx", nil).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if st.Message != "field label not supported: spec.nodeName" {
		t.Errorf("message %q", st.Message)
	}
}

type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// openWatch starts a watch and returns a function reading its next event.
func openWatch(t *testing.T, path string) func() watchEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", testURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("watch %s: %d %s", path, resp.StatusCode, b)
	}
	dec := json.NewDecoder(resp.Body)
	return func() watchEvent {
		t.Helper()
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("read watch event: %v", err)
		}
		return ev
	}
}

func TestWatchOverHTTP(t *testing.T) {
	name := uniqueName("watched")
	cm := createCM(t, name, map[string]string{"v": "1"})
	sel := "&fieldSelector=metadata.name%3D" + name
	cm.Data["v"] = "2"
	call(t, "PUT", cmPath+"/"+name, cm).must(t, http.StatusOK)

	// From the create's resourceVersion: the update, then live changes.
	next := openWatch(t, cmPath+"?watch=true&resourceVersion="+cm.ResourceVersion+sel)
	ev := next()
	got := &corev1.ConfigMap{}
	if err := json.Unmarshal(ev.Object, got); err != nil || ev.Type != "MODIFIED" || got.Data["v"] != "2" || got.Kind != "ConfigMap" {
		t.Fatalf("first event %s %s", ev.Type, ev.Object)
	}
	call(t, "DELETE", cmPath+"/"+name, nil).must(t, http.StatusOK)
	if ev := next(); ev.Type != "DELETED" {
		t.Fatalf("event %s %s", ev.Type, ev.Object)
	}

	// A resourceVersion older than the history: one ERROR event with 410 Expired.
	next = openWatch(t, cmPath+"?watch=true&resourceVersion=1")
	ev = next()
	st := &metav1.Status{}
	if err := json.Unmarshal(ev.Object, st); err != nil || ev.Type != "ERROR" || st.Code != http.StatusGone || st.Reason != metav1.StatusReasonExpired {
		t.Fatalf("watch from 1: %s %s", ev.Type, ev.Object)
	}
	if st.Message != "too old resource version: 1 (2)" {
		t.Errorf("message %q", st.Message)
	}

	// sendInitialEvents: the current state, then a bookmark marking its end.
	name = uniqueName("initial")
	createCM(t, name, nil)
	next = openWatch(t, cmPath+"?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion="+
		"&fieldSelector=metadata.name%3D"+name)
	if ev := next(); ev.Type != "ADDED" {
		t.Fatalf("initial event %s %s", ev.Type, ev.Object)
	}
	ev = next()
	bm := &metav1.PartialObjectMetadata{}
	if err := json.Unmarshal(ev.Object, bm); err != nil || ev.Type != "BOOKMARK" || bm.Annotations["k8s.io/initial-events-end"] != "true" || bm.ResourceVersion == "" {
		t.Fatalf("end of initial events %s %s", ev.Type, ev.Object)
	}
	st = call(t, "GET", cmPath+"?watch=true&sendInitialEvents=true", nil).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if c := causes(st); c["resourceVersionMatch"] == "" || c["allowWatchBookmarks"] == "" {
		t.Errorf("causes %v", c)
	}
}
