package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/test/e2e/framework"
)

// attackRequests is how many requests TestAttack generates.
const attackRequests = 10500

// maxBody is the server's request body limit (upstream's 3 MiB).
const attackMaxBody = 3 << 20

// TestAttack sends thousands of generated bad requests to the running server:
// malformed, truncated, oversized and deeply nested bodies, wrong Content-Types,
// unknown paths, invalid names, options and patches, wrong methods, bad
// credentials, and writes by a user who may only read. Each request has the
// status code kube-apiserver answers it with; the test requires exactly that,
// no 5xx at all, a healthy server afterwards, and not one object written
// without permission.
func TestAttack(t *testing.T) {
	env := newAttackEnv(t)
	rng := rand.New(rand.NewPCG(16, 2026))
	reqs := make([]attackRequest, 0, attackRequests)
	for len(reqs) < attackRequests {
		reqs = append(reqs, env.generate(rng))
	}
	start := time.Now()
	results := env.send(reqs, 8)
	elapsed := time.Since(start)

	type tally struct{ sent, matched int }
	byClass := map[string]*tally{}
	codes := map[int]int{}
	var mismatches []string
	serverErrors := 0
	for i, r := range reqs {
		got := results[i]
		tl := byClass[r.class]
		if tl == nil {
			tl = &tally{}
			byClass[r.class] = tl
		}
		tl.sent++
		codes[got.code]++
		if got.code >= 500 {
			serverErrors++
		}
		if got.code == r.want {
			tl.matched++
			continue
		}
		if len(mismatches) < 30 {
			mismatches = append(mismatches, fmt.Sprintf("%s as %s: %s %s (Content-Type %q, %d bytes): got %d, want %d: %s",
				r.class, r.who, r.method, r.path, r.header.Get("Content-Type"), len(r.body), got.code, r.want, got.summary))
		}
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var report strings.Builder
	fmt.Fprintf(&report, "%d requests in %s\n", len(reqs), elapsed.Round(time.Millisecond))
	for _, c := range classes {
		fmt.Fprintf(&report, "  %-28s %5d sent, %5d as upstream\n", c, byClass[c].sent, byClass[c].matched)
	}
	var codeList []int
	for c := range codes {
		codeList = append(codeList, c)
	}
	sort.Ints(codeList)
	report.WriteString("  codes:")
	for _, c := range codeList {
		fmt.Fprintf(&report, " %d×%d", c, codes[c])
	}
	t.Log(report.String())

	if serverErrors > 0 {
		t.Errorf("%d responses were server errors (5xx or no answer)", serverErrors)
	}
	if len(mismatches) > 0 {
		t.Errorf("responses that are not upstream's:\n%s", strings.Join(mismatches, "\n"))
	}
	env.checkHealthy(t)
	env.checkNothingWritten(t)
}

// attackClient is who sends a request.
type attackClient int

const (
	asAdmin     attackClient = iota // the cluster admin (system:masters)
	asReader                        // a user who may read the first namespace (view), nothing else
	asAnonymous                     // no credentials at all
	asBadToken                      // a bearer token nobody issued
	asRogueCert                     // a client certificate from a CA the server does not trust
	attackClients
)

func (c attackClient) String() string {
	return [...]string{"admin", "reader", "anonymous", "bad-token", "rogue-cert"}[c]
}

// attackRequest is one generated request and the code upstream answers it with.
type attackRequest struct {
	class  string
	who    attackClient
	method string
	path   string
	header http.Header
	body   []byte
	want   int
}

// attackResult is what came back: the code (599 when no answer came) and the
// start of the body.
type attackResult struct {
	code    int
	summary string
}

// attackEnv is the cluster as the attack sees it: a client per identity, the
// namespaces attacked and what they held before.
type attackEnv struct {
	base    string
	clients [attackClients]*http.Client
	// readable is the namespace the reader may read; other is one it may not.
	readable, other string
	// before is what the attacked namespaces held before the attack.
	before map[string]string
}

// attackedKinds are the namespaced resources the attack writes to, with an
// object of each that would be valid.
var attackedKinds = []struct {
	group, version, resource, kind string
	object                         func(name string) map[string]any
}{
	{"", "v1", "configmaps", "ConfigMap", func(n string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": n, "labels": map[string]any{"app": "attack"}}, "data": map[string]any{"k": "v"}}
	}},
	{"", "v1", "secrets", "Secret", func(n string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": n}, "stringData": map[string]any{"password": "hunter2"}}
	}},
	{"", "v1", "services", "Service", func(n string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": n}, "spec": map[string]any{"ports": []any{map[string]any{"port": 80}}}}
	}},
	{"", "v1", "serviceaccounts", "ServiceAccount", func(n string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": n}}
	}},
	{"apps", "v1", "deployments", "Deployment", func(n string) map[string]any {
		labels := map[string]any{"app": n}
		return map[string]any{"metadata": map[string]any{"name": n}, "spec": map[string]any{"replicas": 1,
			"selector": map[string]any{"matchLabels": labels}, "template": map[string]any{"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}}}}}
	}},
	{"rbac.authorization.k8s.io", "v1", "roles", "Role", func(n string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": n}, "rules": []any{map[string]any{"verbs": []any{"*"}, "apiGroups": []any{"*"}, "resources": []any{"*"}}}}
	}},
	{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", func(n string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": n},
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
			"subjects": []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "attack-reader"}}}
	}},
}

// fixture is the object of each kind the attack updates, patches and deletes.
const fixture = "fixture"

func newAttackEnv(t *testing.T) *attackEnv {
	t.Helper()
	kubectl := framework.KubectlPath(t, "")
	readable := framework.NewSession(t, cluster, kubectl)
	other := framework.NewSession(t, cluster, kubectl)
	env := &attackEnv{base: fmt.Sprintf("https://127.0.0.1:%d", cluster.Port), readable: readable.Namespace, other: other.Namespace}

	cfg, err := clientcmd.BuildConfigFromFlags("", cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cfg.CAData)
	admin, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.Load(filepath.Join(cluster.DataDir, "server", "tls"), "ca")
	if err != nil {
		t.Fatal(err)
	}
	reader := issueClientCert(t, ca, "attack-reader")
	rogueCA, err := pki.LoadOrCreateCA(t.TempDir(), "rogue", "rogue-ca")
	if err != nil {
		t.Fatal(err)
	}
	rogue := issueClientCert(t, rogueCA, "system:admin", "system:masters")
	certs := [attackClients][]tls.Certificate{asAdmin: {admin}, asReader: {reader}, asRogueCert: {rogue}}
	for who := range env.clients {
		tc := &tls.Config{RootCAs: roots, Certificates: certs[who]}
		if attackClient(who) == asRogueCert {
			// Go's client sends only a certificate of a CA the server names;
			// others (curl, openssl) send what they are given.
			tc = &tls.Config{RootCAs: roots, GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &rogue, nil }}
		}
		env.clients[who] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}}
	}
	t.Cleanup(func() {
		for _, c := range env.clients {
			c.CloseIdleConnections()
		}
	})

	readable.Run("create", "rolebinding", "attack-reader-view", "--clusterrole=view", "--user=attack-reader")
	for _, ns := range []string{env.readable, env.other} {
		for _, k := range attackedKinds {
			obj := k.object(fixture)
			obj["apiVersion"], obj["kind"] = apiVersion(k.group, k.version), k.kind
			if k.resource == "deployments" {
				obj["spec"].(map[string]any)["replicas"] = 0 // nothing for the controllers to do
			}
			if k.resource == "rolebindings" {
				// The reader must gain nothing from the fixture binding.
				obj["roleRef"].(map[string]any)["name"] = "view"
				obj["subjects"].([]any)[0].(map[string]any)["name"] = "nobody"
			}
			body, _ := json.Marshal(obj)
			res := env.do(asAdmin, http.MethodPost, collectionPath(k.group, k.version, ns, k.resource), mediaTypeJSON, body)
			if res.code != http.StatusCreated {
				t.Fatalf("create fixture %s in %s: %d %s", k.resource, ns, res.code, res.summary)
			}
		}
	}
	// The namespaces' own objects (the root CA ConfigMap, the default
	// ServiceAccount) come from controllers; wait for them so that the snapshot
	// taken now is final.
	framework.Eventually(t, 30*time.Second, func() error {
		for _, ns := range []string{env.readable, env.other} {
			for _, p := range []string{"/api/v1/namespaces/" + ns + "/configmaps/kube-root-ca.crt", "/api/v1/namespaces/" + ns + "/serviceaccounts/default"} {
				if r := env.do(asAdmin, http.MethodGet, p, "", nil); r.code != http.StatusOK {
					return fmt.Errorf("%s: %d", p, r.code)
				}
			}
		}
		return nil
	})
	// The reader can read where it should: its refusals below are RBAC's.
	if r := env.do(asReader, http.MethodGet, "/api/v1/namespaces/"+env.readable+"/configmaps/"+fixture, "", nil); r.code != http.StatusOK {
		t.Fatalf("the reader cannot read its namespace: %d %s", r.code, r.summary)
	}
	// Controllers settle the fixtures (a Deployment's status); the snapshot is
	// taken once two in a row agree.
	framework.Eventually(t, 30*time.Second, func() error {
		first := env.snapshot(t)
		time.Sleep(time.Second)
		if second := env.snapshot(t); !maps.Equal(first, second) {
			return fmt.Errorf("the attacked namespaces are still changing")
		}
		env.before = first
		return nil
	})
	return env
}

func issueClientCert(t *testing.T, ca *pki.KeyPair, name string, groups ...string) tls.Certificate {
	t.Helper()
	kp, err := pki.Issue(ca, pki.Leaf{CommonName: name, Organization: groups, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

const (
	mediaTypeJSON     = "application/json"
	mediaTypeYAML     = "application/yaml"
	mediaTypeProtobuf = "application/vnd.kubernetes.protobuf"
	mergePatchType    = "application/merge-patch+json"
	jsonPatchType     = "application/json-patch+json"
	smPatchType       = "application/strategic-merge-patch+json"
	applyPatchType    = "application/apply-patch+yaml"
)

func apiVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

func collectionPath(group, version, ns, resource string) string {
	prefix := "/api/" + version
	if group != "" {
		prefix = "/apis/" + group + "/" + version
	}
	if ns == "" {
		return prefix + "/" + resource
	}
	return prefix + "/namespaces/" + ns + "/" + resource
}

// do sends one request.
func (e *attackEnv) do(who attackClient, method, path, contentType string, body []byte) attackResult {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return e.doRequest(attackRequest{who: who, method: method, path: path, header: h, body: body})
}

func (e *attackEnv) doRequest(r attackRequest) attackResult {
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, e.base+r.path, rd)
	if err != nil {
		return attackResult{code: 599, summary: err.Error()}
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	resp, err := e.clients[r.who].Do(req)
	if err != nil {
		return attackResult{code: 599, summary: err.Error()}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	summary := string(data)
	if len(summary) > 300 {
		summary = summary[:300] + "..."
	}
	return attackResult{code: resp.StatusCode, summary: summary}
}

// send runs the requests on workers and returns their results in order.
func (e *attackEnv) send(reqs []attackRequest, workers int) []attackResult {
	results := make([]attackResult, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = e.doRequest(reqs[i])
			}
		}()
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// checkHealthy requires the server to answer /readyz after the attack.
func (e *attackEnv) checkHealthy(t *testing.T) {
	t.Helper()
	if r := e.do(asAdmin, http.MethodGet, "/readyz?verbose", "", nil); r.code != http.StatusOK {
		t.Errorf("/readyz after the attack: %d %s", r.code, r.summary)
	}
	if r := e.do(asAdmin, http.MethodGet, "/api/v1/namespaces/"+e.readable+"/configmaps/"+fixture, "", nil); r.code != http.StatusOK {
		t.Errorf("reading after the attack: %d %s", r.code, r.summary)
	}
}

// snapshot lists the name and resourceVersion of every object of the attacked
// kinds in the attacked namespaces, and which of the cluster-scoped objects the
// attack tries to create exist.
func (e *attackEnv) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ns := range []string{e.readable, e.other} {
		for _, k := range attackedKinds {
			p := collectionPath(k.group, k.version, ns, k.resource)
			for name, rv := range e.listNames(t, p) {
				out[p+"/"+name] = rv
			}
		}
	}
	for _, c := range attackedClusterKinds {
		p := collectionPath(c.group, c.version, "", c.resource)
		for name, rv := range e.listNames(t, p) {
			if strings.HasPrefix(name, "attack-") {
				out[p+"/"+name] = rv
			}
		}
	}
	return out
}

func (e *attackEnv) listNames(t *testing.T, path string) map[string]string {
	t.Helper()
	resp, err := e.clients[asAdmin].Get(e.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			Metadata struct{ Name, ResourceVersion string } `json:"metadata"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list %s: %d %v", path, resp.StatusCode, err)
	}
	names := map[string]string{}
	for _, it := range list.Items {
		names[it.Metadata.Name] = it.Metadata.ResourceVersion
	}
	return names
}

// checkNothingWritten compares the attacked namespaces with what they held
// before: no object added, changed or deleted.
func (e *attackEnv) checkNothingWritten(t *testing.T) {
	t.Helper()
	after := e.snapshot(t)
	for k, rv := range after {
		if before, ok := e.before[k]; !ok {
			t.Errorf("written during the attack: %s", k)
		} else if before != rv {
			t.Errorf("changed during the attack: %s (resourceVersion %s, was %s)", k, rv, before)
		}
	}
	for k := range e.before {
		if _, ok := after[k]; !ok {
			t.Errorf("deleted during the attack: %s", k)
		}
	}
}

// attackedClusterKinds are cluster-scoped resources the reader tries to create.
var attackedClusterKinds = []struct{ group, version, resource, kind string }{
	{"", "v1", "namespaces", "Namespace"},
	{"", "v1", "nodes", "Node"},
	{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole"},
	{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding"},
}

// attackGenerators make one request of a class each; a class's weight is how
// many times it appears in the list.
type attackGenerator struct {
	class  string
	weight int
	// want is the code of the class's requests, unless a request says.
	want int
	make func(e *attackEnv, rng *rand.Rand) attackRequest
}

func (e *attackEnv) generate(rng *rand.Rand) attackRequest {
	total := 0
	for _, g := range attackGenerators {
		total += g.weight
	}
	n := rng.IntN(total)
	for _, g := range attackGenerators {
		if n < g.weight {
			r := g.make(e, rng)
			r.class = g.class
			if r.want == 0 {
				r.want = g.want
			}
			if r.header == nil {
				r.header = http.Header{}
			}
			return r
		}
		n -= g.weight
	}
	panic("unreachable")
}

// pick returns a random element.
func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// randomName is a valid object name that no fixture has.
func randomName(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("attack-")
	for i := 0; i < 8; i++ {
		b = append(b, letters[rng.IntN(len(letters))])
	}
	return string(b)
}

// validBody is a valid object of a random attacked kind, and that kind's index.
func validBody(rng *rand.Rand, name string) (int, map[string]any) {
	i := rng.IntN(len(attackedKinds))
	k := attackedKinds[i]
	obj := k.object(name)
	obj["apiVersion"], obj["kind"] = apiVersion(k.group, k.version), k.kind
	return i, obj
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// writeTo builds a request of who to the collection of kind i in ns.
func writeTo(who attackClient, ns string, i int, contentType string, body []byte) attackRequest {
	k := attackedKinds[i]
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return attackRequest{who: who, method: http.MethodPost, path: collectionPath(k.group, k.version, ns, k.resource), header: h, body: body}
}

// corruptJSON breaks a valid JSON document in one of the ways a client does.
func corruptJSON(rng *rand.Rand, doc []byte) []byte {
	switch rng.IntN(8) {
	case 0: // cut short anywhere before the closing brace
		return doc[:rng.IntN(len(doc)-1)]
	case 1: // trailing garbage
		return append(append([]byte{}, doc...), pick(rng, []string{"}", "x", ",{}", "\x00", "]"})...)
	case 2: // leading garbage
		return append([]byte(pick(rng, []string{"x", ",", "]", "\xff", "//c\n"})), doc...)
	case 3: // = for :
		return bytes.Replace(doc, []byte(":"), []byte("="), 1)
	case 4: // single quotes
		return bytes.ReplaceAll(doc, []byte(`"`), []byte(`'`))
	case 5: // an unterminated string
		i := bytes.LastIndexByte(doc, '"')
		return append(append([]byte{}, doc[:i]...), doc[i+1:]...)
	case 6: // a raw control character inside a string
		i := bytes.IndexByte(doc, '"')
		return append(append(append([]byte{}, doc[:i+1]...), byte(1+rng.IntN(31))), doc[i+1:]...)
	default: // a bare word for a value
		word := pick(rng, []string{"NaN", "Infinity", "undefined", "ConfigMap", "0x10"})
		return bytes.Replace(doc, []byte(`"kind":"`), []byte(`"kind":`+word+`,"x":"`), 1)
	}
}

// brokenYAML are YAML documents no parser accepts, or that are not objects.
var brokenYAML = []string{
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 'unterminated\n",
	"apiVersion: v1: v2\nkind: ConfigMap\n",
	"\tapiVersion: v1\nkind: ConfigMap\n",
	"apiVersion: v1\nkind: ConfigMap\ndata: {a: \"\\q\"}\n",
	"- 1\n- 2\n",
	"just a string\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n name: y\n",
	"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
}

// brokenProtobuf are bodies that are not a Kubernetes protobuf envelope, or one
// that is cut short or of another kind.
func brokenProtobuf(rng *rand.Rand) []byte {
	magic := []byte("k8s\x00")
	switch rng.IntN(4) {
	case 0: // no magic number
		b := make([]byte, 1+rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		if bytes.HasPrefix(b, magic) {
			b[0] = 'x'
		}
		return b
	case 1: // a length that runs past the end
		return append(magic, 0x0a, 0xff, 0xff, 0x03, 0x0a)
	case 2: // a Secret sent to configmaps
		return append(magic, []byte("\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x00")...)
	default: // the magic number and nothing else
		return magic
	}
}

// oversizedBody is a ConfigMap just over the body limit, made once and shared
// by the requests that send it.
var oversizedBody = sync.OnceValue(func() []byte {
	return mustJSON(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "attack-oversized"},
		"data": map[string]any{"k": strings.Repeat("x", attackMaxBody+1)}})
})

// tooManyPatchOperations is a JSON patch of one operation more than upstream allows.
var tooManyPatchOperations = sync.OnceValue(func() []byte {
	op := `{"op":"test","path":"/data/k","value":"v"}`
	return []byte("[" + strings.TrimSuffix(strings.Repeat(op+",", 10001), ",") + "]")
})

// nestedJSON is depth levels of arrays around a string.
func nestedJSON(depth int) string {
	return strings.Repeat("[", depth) + `"x"` + strings.Repeat("]", depth)
}

var attackGenerators = []attackGenerator{
	{"malformed-json", 14, http.StatusBadRequest, func(e *attackEnv, rng *rand.Rand) attackRequest {
		i, obj := validBody(rng, randomName(rng))
		return writeTo(asAdmin, e.readable, i, pick(rng, []string{mediaTypeJSON, "", "application/json; charset=utf-8"}), corruptJSON(rng, mustJSON(obj)))
	}},
	{"malformed-yaml", 6, http.StatusBadRequest, func(e *attackEnv, rng *rand.Rand) attackRequest {
		return writeTo(asAdmin, e.readable, 0, mediaTypeYAML, []byte(pick(rng, brokenYAML)))
	}},
	{"malformed-protobuf", 6, http.StatusBadRequest, func(e *attackEnv, rng *rand.Rand) attackRequest {
		return writeTo(asAdmin, e.readable, 0, mediaTypeProtobuf, brokenProtobuf(rng))
	}},
	{"wrong-kind", 4, http.StatusBadRequest, func(e *attackEnv, rng *rand.Rand) attackRequest {
		i, obj := validBody(rng, randomName(rng))
		switch rng.IntN(3) {
		case 0:
			obj["kind"] = "Pod"
		case 1:
			obj["apiVersion"] = "v9"
		default:
			obj["metadata"].(map[string]any)["namespace"] = e.other
		}
		return writeTo(asAdmin, e.readable, i, mediaTypeJSON, mustJSON(obj))
	}},
	{"oversized", 1, http.StatusRequestEntityTooLarge, func(e *attackEnv, rng *rand.Rand) attackRequest {
		r := writeTo(asAdmin, e.readable, 0, mediaTypeJSON, oversizedBody())
		switch rng.IntN(3) {
		case 1:
			r.method, r.path = http.MethodPut, r.path+"/"+fixture
		case 2:
			r.method, r.path = http.MethodPatch, r.path+"/"+fixture
			r.header.Set("Content-Type", mergePatchType)
		}
		return r
	}},
	{"too-many-patch-operations", 1, http.StatusRequestEntityTooLarge, func(e *attackEnv, rng *rand.Rand) attackRequest {
		r := writeTo(asAdmin, e.readable, 0, jsonPatchType, tooManyPatchOperations())
		r.method, r.path = http.MethodPatch, r.path+"/"+fixture
		return r
	}},
	{"deep-nesting", 3, http.StatusBadRequest, func(e *attackEnv, rng *rand.Rand) attackRequest {
		depth := 10001 + rng.IntN(5000)
		switch rng.IntN(4) {
		case 0: // past the decoder's depth limit
			body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + randomName(rng) + `"},"x":` + nestedJSON(depth) + `}`
			return writeTo(asAdmin, e.readable, 0, mediaTypeJSON, []byte(body))
		case 1: // in YAML's flow style
			return writeTo(asAdmin, e.readable, 0, mediaTypeYAML, []byte("apiVersion: v1\nkind: ConfigMap\nx: "+nestedJSON(depth)+"\n"))
		case 2: // in a merge patch
			r := writeTo(asAdmin, e.readable, 0, mergePatchType, []byte(`{"data":`+nestedJSON(depth)+`}`))
			r.method, r.path = http.MethodPatch, r.path+"/"+fixture
			return r
		default: // shallower, where a string belongs
			body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + randomName(rng) + `"},"data":{"k":` + nestedJSON(100+rng.IntN(2000)) + `}}`
			return writeTo(asAdmin, e.readable, 0, mediaTypeJSON, []byte(body))
		}
	}},
	{"wrong-content-type", 8, http.StatusUnsupportedMediaType, func(e *attackEnv, rng *rand.Rand) attackRequest {
		i, obj := validBody(rng, randomName(rng))
		r := writeTo(asAdmin, e.readable, i, "", mustJSON(obj))
		switch rng.IntN(3) {
		case 0:
			r.header.Set("Content-Type", pick(rng, []string{"text/plain", "application/xml", "application/x-www-form-urlencoded",
				"multipart/form-data; boundary=x", "image/png", "application/cbor", "application/json;;", "garbage", "application/", "/json"}))
		case 1:
			r.method, r.path = http.MethodPut, r.path+"/"+fixture
			obj["metadata"].(map[string]any)["name"] = fixture
			r.body = mustJSON(obj)
			r.header.Set("Content-Type", pick(rng, []string{"text/plain", "application/xml", "application/cbor", "text/yaml"}))
		default:
			r.method, r.path = http.MethodPatch, r.path+"/"+fixture
			r.body = []byte(`{"metadata":{"labels":{"a":"b"}}}`)
			if ct := pick(rng, []string{"application/json", "application/yaml", "text/plain", "", mediaTypeProtobuf}); ct != "" {
				r.header.Set("Content-Type", ct)
			}
		}
		return r
	}},
	{"unknown-path", 8, http.StatusNotFound, func(e *attackEnv, rng *rand.Rand) attackRequest {
		ns := e.readable
		paths := []string{
			"/apis/attack.example.com/v1/things",
			"/apis/attack.example.com/v1/namespaces/" + ns + "/things/x",
			"/apis/attack.example.com",
			"/apis/apps/v9/deployments",
			"/apis/apps/v9/namespaces/" + ns + "/deployments",
			"/api/v2/pods",
			"/api/v2/namespaces/" + ns + "/pods",
			"/api/v1/namespaces/" + ns + "/zzthings",
			"/api/v1/namespaces/" + ns + "/zzthings/x",
			"/apis/apps/v1/namespaces/" + ns + "/zzthings",
			"/api/v1/namespaces/" + ns + "/configmaps/" + fixture + "/zzsub",
			"/api/v1/namespaces/" + ns + "/configmaps/" + randomName(rng),
			"/api/v1/namespaces/" + randomName(rng) + "/configmaps/" + fixture,
			"/api/v1/configmaps/" + fixture,
			"/api/v1/namespaces/" + ns + "/nodes/x",
			"/zz/" + randomName(rng),
			"/apis/" + randomName(rng) + "/v1/x",
		}
		return attackRequest{who: asAdmin, method: pick(rng, []string{http.MethodGet, http.MethodGet, http.MethodDelete}), path: pick(rng, paths)}
	}},
	{"invalid-name", 8, http.StatusUnprocessableEntity, func(e *attackEnv, rng *rand.Rand) attackRequest {
		bad := pick(rng, []string{"Bad_Name", "UPPER", "-leading", "trailing-", "a..b", "with space", "dot.", "ünïcode", "a/b",
			strings.Repeat("a", 254), "", "x\x00y"})
		kind := rng.IntN(3) // configmaps, secrets, services: DNS subdomain and label names
		obj := attackedKinds[kind].object(bad)
		obj["apiVersion"], obj["kind"] = "v1", attackedKinds[kind].kind
		if rng.IntN(4) == 0 {
			obj["metadata"] = map[string]any{"name": randomName(rng), "labels": map[string]any{pick(rng, []string{"bad key", "-x", "a/b/c", strings.Repeat("k", 64)}): "v"}}
		}
		return writeTo(asAdmin, e.readable, kind, mediaTypeJSON, mustJSON(obj))
	}},
	{"invalid-name-in-path", 3, http.StatusBadRequest, func(e *attackEnv, rng *rand.Rand) attackRequest {
		k := attackedKinds[rng.IntN(len(attackedKinds))]
		name := pick(rng, []string{"a%25b", "%25", "x%25y%25z"})
		return attackRequest{who: asAdmin, method: pick(rng, []string{http.MethodGet, http.MethodDelete}),
			path: collectionPath(k.group, k.version, e.readable, k.resource) + "/" + name}
	}},
	{"invalid-spec", 6, http.StatusUnprocessableEntity, func(e *attackEnv, rng *rand.Rand) attackRequest {
		name := randomName(rng)
		bodies := []struct {
			kind int
			obj  map[string]any
		}{
			{0, map[string]any{"metadata": map[string]any{"name": name}, "data": map[string]any{"bad key": "v"}}},
			{2, map[string]any{"metadata": map[string]any{"name": name}, "spec": map[string]any{"ports": []any{map[string]any{"port": 0}}}}},
			{2, map[string]any{"metadata": map[string]any{"name": name}, "spec": map[string]any{"type": "Sideways", "ports": []any{map[string]any{"port": 80}}}}},
			{4, map[string]any{"metadata": map[string]any{"name": name}, "spec": map[string]any{"replicas": -1, "selector": map[string]any{"matchLabels": map[string]any{"a": "b"}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}, "spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "i"}}}}}}},
			{4, map[string]any{"metadata": map[string]any{"name": name}, "spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"a": "b"}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "c"}}, "spec": map[string]any{"containers": []any{}}}}}},
			{5, map[string]any{"metadata": map[string]any{"name": name}, "rules": []any{map[string]any{"verbs": []any{}}}}},
			{6, map[string]any{"metadata": map[string]any{"name": name}, "roleRef": map[string]any{"kind": "Nope", "name": ""}}},
		}
		b := pick(rng, bodies)
		k := attackedKinds[b.kind]
		b.obj["apiVersion"], b.obj["kind"] = apiVersion(k.group, k.version), k.kind
		return writeTo(asAdmin, e.readable, b.kind, mediaTypeJSON, mustJSON(b.obj))
	}},
	{"invalid-options", 8, 0, func(e *attackEnv, rng *rand.Rand) attackRequest {
		i, obj := validBody(rng, randomName(rng))
		r := writeTo(asAdmin, e.readable, i, mediaTypeJSON, mustJSON(obj))
		switch rng.IntN(9) {
		case 0:
			r.path += "?dryRun=" + pick(rng, []string{"Bogus", "all", "true"})
			r.want = http.StatusUnprocessableEntity
		case 1:
			r.path += "?fieldValidation=" + pick(rng, []string{"Sometimes", "strict", "WARN"})
			r.want = http.StatusUnprocessableEntity
		case 2:
			r.path += "?fieldManager=" + strings.Repeat("m", 129)
			r.want = http.StatusUnprocessableEntity
		case 3:
			r.path += "?fieldManager=%07bell"
			r.want = http.StatusUnprocessableEntity
		case 4:
			r.method, r.body = http.MethodGet, nil
			r.path += "?labelSelector=" + pick(rng, []string{"a+in+(", "a%3D%3D%3Db", "!", "a%3Db,,c", "%3D"})
			r.want = http.StatusBadRequest
		case 5:
			r.method, r.body = http.MethodGet, nil
			r.path += "?fieldSelector=" + pick(rng, []string{"zz.unknown%3Dx", "metadata.name", "%3D%3Db", "spec.nodeName%3Dx"})
			r.want = http.StatusBadRequest
		case 6:
			r.method, r.body = http.MethodGet, nil
			r.path += "?" + pick(rng, []string{"limit=abc", "timeoutSeconds=soon", "limit=1.5"})
			r.want = http.StatusBadRequest
		case 7:
			r.method, r.body = http.MethodGet, nil
			r.path += "?resourceVersionMatch=" + pick(rng, []string{"Bogus&resourceVersion=1", "Exact", "Exact&resourceVersion=0"})
			r.want = http.StatusUnprocessableEntity
		default:
			r.method, r.body = http.MethodDelete, nil
			r.path += "/" + fixture + "?" + pick(rng, []string{"propagationPolicy=Sideways", "gracePeriodSeconds=soon", "dryRun=Bogus", "orphanDependents=true&propagationPolicy=Orphan"})
			r.want = http.StatusUnprocessableEntity
			if strings.Contains(r.path, "soon") {
				r.want = http.StatusBadRequest
			}
		}
		return r
	}},
	{"invalid-patch", 8, 0, func(e *attackEnv, rng *rand.Rand) attackRequest {
		patches := []struct {
			ct, body string
			want     int
		}{
			{jsonPatchType, `[`, http.StatusBadRequest},
			{jsonPatchType, `{"op":"add","path":"/data/x","value":"y"}`, http.StatusBadRequest},
			{jsonPatchType, `[{"op":"test","path":"/data/k","value":"not-v"}]`, http.StatusUnprocessableEntity},
			{jsonPatchType, `[{"op":"remove","path":"/data/zz"}]`, http.StatusUnprocessableEntity},
			{jsonPatchType, `[{"op":"bogus","path":"/data/k"}]`, http.StatusUnprocessableEntity},
			{jsonPatchType, `[{"op":"replace","path":"/data","value":"flat"}]`, http.StatusUnprocessableEntity},
			{mergePatchType, `{`, http.StatusBadRequest},
			{mergePatchType, `{"data":"flat"}`, http.StatusUnprocessableEntity},
			{mergePatchType, `{"metadata":{"name":"renamed"}}`, http.StatusBadRequest},
			{mergePatchType, `{"metadata":{"labels":{"bad key":"v"}}}`, http.StatusUnprocessableEntity},
			{smPatchType, `{"data":`, http.StatusBadRequest},
			{smPatchType, `{"data":["a"]}`, http.StatusUnprocessableEntity},
			{applyPatchType + "?fieldManager=", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + fixture + "}\n", http.StatusUnprocessableEntity},
			{applyPatchType, "{{{", http.StatusBadRequest},
			{applyPatchType, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n", http.StatusBadRequest},
			{mergePatchType + "?force=true", `{"data":{"k":"w"}}`, http.StatusUnprocessableEntity},
		}
		p := pick(rng, patches)
		ct, query, _ := strings.Cut(p.ct, "?")
		if ct == applyPatchType && query == "" {
			query = "fieldManager=attack"
		}
		path := collectionPath("", "v1", e.readable, "configmaps") + "/" + fixture
		if query != "" {
			path += "?" + query
		}
		h := http.Header{}
		h.Set("Content-Type", ct)
		return attackRequest{who: asAdmin, method: http.MethodPatch, path: path, header: h, body: []byte(p.body), want: p.want}
	}},
	{"wrong-method", 6, http.StatusMethodNotAllowed, func(e *attackEnv, rng *rand.Rand) attackRequest {
		k := attackedKinds[rng.IntN(len(attackedKinds))]
		coll := collectionPath(k.group, k.version, e.readable, k.resource)
		cases := []struct{ method, path string }{
			{http.MethodPost, coll + "/" + fixture},
			{http.MethodPut, coll},
			{http.MethodPatch, coll},
			{http.MethodDelete, "/api/v1/namespaces"},
			{"FOO", coll},
			{"OPTIONS", coll + "/" + fixture},
			{http.MethodGet, "/api/v1/namespaces/" + e.readable + "/pods/x/eviction"},
			{http.MethodPut, "/api/v1/namespaces/" + e.readable + "/pods/x/binding"},
		}
		c := pick(rng, cases)
		r := attackRequest{who: asAdmin, method: c.method, path: c.path, header: http.Header{}}
		if c.method == http.MethodPost || c.method == http.MethodPut || c.method == http.MethodPatch {
			r.body = []byte(`{}`)
			r.header.Set("Content-Type", mediaTypeJSON)
			if c.method == http.MethodPatch {
				r.header.Set("Content-Type", mergePatchType)
			}
		}
		return r
	}},
	{"bad-credentials", 10, http.StatusUnauthorized, func(e *attackEnv, rng *rand.Rand) attackRequest {
		r := e.anyRequest(rng)
		r.who = asBadToken
		switch rng.IntN(5) {
		case 0:
			r.header.Set("Authorization", "Bearer "+randomName(rng))
		case 1: // a JWT signed by nobody the server trusts
			enc := base64.RawURLEncoding
			claims := fmt.Sprintf(`{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:kube-system:default","exp":%d}`, time.Now().Add(time.Hour).Unix())
			r.header.Set("Authorization", "Bearer "+enc.EncodeToString([]byte(`{"alg":"ES256","typ":"JWT"}`))+"."+enc.EncodeToString([]byte(claims))+"."+enc.EncodeToString([]byte("sig")))
		case 2:
			r.header.Set("Authorization", "bearer "+randomName(rng))
		case 3:
			r.header.Set("Authorization", "Bearer "+randomName(rng)+" trailing")
		default:
			r.who = asRogueCert
		}
		r.want = http.StatusUnauthorized
		return r
	}},
	{"anonymous", 6, http.StatusForbidden, func(e *attackEnv, rng *rand.Rand) attackRequest {
		r := e.anyRequest(rng)
		r.who = asAnonymous
		if rng.IntN(3) == 0 {
			// Schemes the server does not take leave the request anonymous.
			r.header.Set("Authorization", pick(rng, []string{"Basic YWRtaW46YWRtaW4=", "Bearer", "Negotiate abc", "Bearer  "}))
		}
		r.want = http.StatusForbidden
		return r
	}},
	{"forbidden-write", 14, http.StatusForbidden, func(e *attackEnv, rng *rand.Rand) attackRequest {
		r := e.writeRequest(rng, pick(rng, []string{e.readable, e.readable, e.other}))
		r.who = asReader
		r.want = http.StatusForbidden
		return r
	}},
	{"forbidden-other", 4, http.StatusForbidden, func(e *attackEnv, rng *rand.Rand) attackRequest {
		k := attackedKinds[rng.IntN(len(attackedKinds))]
		var r attackRequest
		switch rng.IntN(5) {
		case 0: // reading where it may not
			r = attackRequest{method: http.MethodGet, path: collectionPath(k.group, k.version, e.other, k.resource)}
		case 1: // Secrets are not for viewers
			r = attackRequest{method: http.MethodGet, path: "/api/v1/namespaces/" + e.readable + "/secrets/" + fixture}
		case 2: // a cluster-scoped object
			c := pick(rng, attackedClusterKinds)
			body := mustJSON(map[string]any{"apiVersion": apiVersion(c.group, c.version), "kind": c.kind, "metadata": map[string]any{"name": randomName(rng)}})
			r = attackRequest{method: http.MethodPost, path: collectionPath(c.group, c.version, "", c.resource), body: body,
				header: http.Header{"Content-Type": {mediaTypeJSON}}}
		case 3: // acting as someone else
			r = attackRequest{method: http.MethodPost, path: collectionPath("", "v1", e.readable, "configmaps"),
				body:   mustJSON(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": randomName(rng)}}),
				header: http.Header{"Content-Type": {mediaTypeJSON}, "Impersonate-User": {pick(rng, []string{"admin", "system:admin", "system:serviceaccount:kube-system:default"})}}}
		default: // subresources that act
			r = attackRequest{method: http.MethodPost, path: pick(rng, []string{
				"/api/v1/namespaces/" + e.readable + "/serviceaccounts/default/token",
				"/api/v1/namespaces/" + e.readable + "/pods/x/eviction",
				"/apis/apps/v1/namespaces/" + e.readable + "/deployments/" + fixture + "/scale"}),
				body: []byte(`{}`), header: http.Header{"Content-Type": {mediaTypeJSON}}}
			if strings.HasSuffix(r.path, "/scale") {
				r.method = http.MethodPut
			}
		}
		r.who, r.want = asReader, http.StatusForbidden
		if r.header == nil {
			r.header = http.Header{}
		}
		return r
	}},
}

// anyRequest is a request of any shape to the API, for callers who will be
// refused before it is looked at.
func (e *attackEnv) anyRequest(rng *rand.Rand) attackRequest {
	if rng.IntN(4) == 0 {
		k := attackedKinds[rng.IntN(len(attackedKinds))]
		return attackRequest{method: http.MethodGet, path: pick(rng, []string{
			collectionPath(k.group, k.version, e.readable, k.resource),
			collectionPath(k.group, k.version, e.readable, k.resource) + "/" + fixture,
			"/api/v1/nodes", "/apis/attack.example.com/v1/things", "/api", "/apis/apps/v1", "/openapi/v2", "/metrics", "/zz"}),
			header: http.Header{}}
	}
	return e.writeRequest(rng, pick(rng, []string{e.readable, e.other}))
}

// writeRequest is a create, update, patch, delete or deletecollection of an
// attacked kind in ns, with a body that is valid, broken, or huge-ish.
func (e *attackEnv) writeRequest(rng *rand.Rand, ns string) attackRequest {
	i, obj := validBody(rng, randomName(rng))
	k := attackedKinds[i]
	coll := collectionPath(k.group, k.version, ns, k.resource)
	body := mustJSON(obj)
	switch rng.IntN(4) {
	case 0:
		body = corruptJSON(rng, body)
	case 1:
		obj["metadata"].(map[string]any)["annotations"] = map[string]any{"big": strings.Repeat("a", 16<<10)}
		body = mustJSON(obj)
	}
	h := http.Header{"Content-Type": {mediaTypeJSON}}
	switch rng.IntN(6) {
	case 0, 1:
		return attackRequest{method: http.MethodPost, path: coll, header: h, body: body}
	case 2:
		obj["metadata"].(map[string]any)["name"] = fixture
		return attackRequest{method: http.MethodPut, path: coll + "/" + fixture, header: h, body: mustJSON(obj)}
	case 3:
		h.Set("Content-Type", pick(rng, []string{mergePatchType, jsonPatchType, smPatchType, applyPatchType, "text/plain"}))
		return attackRequest{method: http.MethodPatch, path: coll + "/" + fixture + "?fieldManager=attack", header: h,
			body: []byte(`{"metadata":{"labels":{"pwned":"true"}}}`)}
	case 4:
		return attackRequest{method: http.MethodDelete, path: coll + "/" + fixture, header: http.Header{}}
	default:
		return attackRequest{method: http.MethodDelete, path: coll, header: http.Header{}}
	}
}
