package apiserver

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"

// column is what kubectl uses of a column definition.
type column struct {
	Name     string
	Type     string
	Format   string
	Priority int32
}

// Upstream's printers (pkg/printers/internalversion) for the resources kubectl
// shows most.
var upstreamColumns = map[string][]column{
	podPath: {
		{"Name", "string", "name", 0}, {"Ready", "string", "", 0}, {"Status", "string", "", 0},
		{"Restarts", "string", "", 0}, {"Age", "string", "", 0}, {"IP", "string", "", 1},
		{"Node", "string", "", 1}, {"Nominated Node", "string", "", 1}, {"Readiness Gates", "string", "", 1},
	},
	deployPath: {
		{"Name", "string", "name", 0}, {"Ready", "string", "", 0}, {"Up-to-date", "string", "", 0},
		{"Available", "string", "", 0}, {"Age", "string", "", 0}, {"Containers", "string", "", 1},
		{"Images", "string", "", 1}, {"Selector", "string", "", 1},
	},
	svcPath: {
		{"Name", "string", "name", 0}, {"Type", "string", "", 0}, {"Cluster-IP", "string", "", 0},
		{"External-IP", "string", "", 0}, {"Port(s)", "string", "", 0}, {"Age", "string", "", 0},
		{"Selector", "string", "", 1},
	},
	nodePath: {
		{"Name", "string", "name", 0}, {"Status", "string", "", 0}, {"Roles", "string", "", 0},
		{"Age", "string", "", 0}, {"Version", "string", "", 0}, {"Internal-IP", "string", "", 1},
		{"External-IP", "string", "", 1}, {"OS-Image", "string", "", 1}, {"Kernel-Version", "string", "", 1},
		{"Container-Runtime", "string", "", 1},
	},
}

func getTable(t *testing.T, path string) *metav1.Table {
	t.Helper()
	r := call(t, "GET", path, nil, "Accept", tableAccept).must(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	tab := &metav1.Table{}
	r.into(t, tab)
	if tab.Kind != "Table" || tab.APIVersion != "meta.k8s.io/v1" {
		t.Fatalf("got kind %q apiVersion %q", tab.Kind, tab.APIVersion)
	}
	return tab
}

func rowByName(t *testing.T, tab *metav1.Table, name string) []interface{} {
	t.Helper()
	for _, r := range tab.Rows {
		if len(r.Cells) > 0 && r.Cells[0] == name {
			return r.Cells
		}
	}
	t.Fatalf("no row for %s in %+v", name, tab.Rows)
	return nil
}

func TestTables(t *testing.T) {
	name := uniqueName("tab")
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: testDeployment(name).Spec.Template.Spec}
	call(t, "POST", podPath, pod).must(t, http.StatusCreated)
	call(t, "POST", deployPath, testDeployment(name)).must(t, http.StatusCreated)
	svc := &corev1.Service{}
	call(t, "POST", svcPath, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"`+name+`"},
		"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80},{"name":"dns","port":53,"protocol":"UDP"}]}}`).must(t, http.StatusCreated).into(t, svc)
	call(t, "POST", nodePath, `{"apiVersion":"v1","kind":"Node","metadata":{"name":"`+name+`","labels":{"node-role.kubernetes.io/control-plane":""}}}`).
		must(t, http.StatusCreated)

	wantCells := map[string][]interface{}{
		podPath:    {name, "0/2", "Pending", "0", nil, "<none>", "<none>", "<none>", "<none>"},
		deployPath: {name, "0/1", float64(0), float64(0), nil, "a,b", "nginx:1,busybox:1", "app=" + name},
		svcPath:    {name, "ClusterIP", svc.Spec.ClusterIP, "<none>", "80/TCP,53/UDP", nil, "app=web"},
		nodePath:   {name, "Unknown", "control-plane", nil, "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
	}
	for path, want := range upstreamColumns {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			for _, p := range []string{path, path + "/" + name} {
				tab := getTable(t, p)
				var got []column
				for _, c := range tab.ColumnDefinitions {
					got = append(got, column{c.Name, c.Type, c.Format, c.Priority})
					if c.Description == "" && c.Name != "IP" && c.Name != "Node" && c.Name != "Nominated Node" && c.Name != "Readiness Gates" {
						t.Errorf("column %s has no description", c.Name)
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s columns:\n got %v\nwant %v", p, got, want)
				}
				cells := rowByName(t, tab, name)
				if len(cells) != len(want) {
					t.Fatalf("%d cells for %d columns: %v", len(cells), len(want), cells)
				}
				for i, w := range wantCells[path] {
					if w == nil {
						if s, _ := cells[i].(string); s == "" {
							t.Errorf("%s is empty", want[i].Name)
						}
						continue
					}
					if !reflect.DeepEqual(cells[i], w) {
						t.Errorf("%s = %#v, want %#v", want[i].Name, cells[i], w)
					}
				}
				if tab.ResourceVersion == "" {
					t.Errorf("%s: table has no resourceVersion", p)
				}
			}
		})
	}
}

// includeObject picks what each row carries: metadata (default), the object, or nothing.
func TestTableIncludeObject(t *testing.T) {
	name := uniqueName("tab-obj")
	createCM(t, name, map[string]string{"a": "1"})
	path := cmPath + "/" + name

	row := func(q string) map[string]interface{} {
		r := call(t, "GET", path+q, nil, "Accept", tableAccept).must(t, http.StatusOK)
		var tab struct {
			Rows []struct {
				Object map[string]interface{} `json:"object"`
			} `json:"rows"`
		}
		if err := json.Unmarshal(r.body, &tab); err != nil || len(tab.Rows) != 1 {
			t.Fatalf("%s: %v %s", q, err, r.body)
		}
		return tab.Rows[0].Object
	}
	if o := row(""); o["kind"] != "PartialObjectMetadata" || o["apiVersion"] != "meta.k8s.io/v1" || o["metadata"].(map[string]interface{})["name"] != name || o["data"] != nil {
		t.Errorf("default row object %v", o)
	}
	if o := row("?includeObject=Object"); o["kind"] != "ConfigMap" || o["apiVersion"] != "v1" || o["data"] == nil {
		t.Errorf("includeObject=Object row object %v", o)
	}
	if o := row("?includeObject=None"); o != nil {
		t.Errorf("includeObject=None row object %v", o)
	}
	call(t, "GET", path+"?includeObject=Bogus", nil, "Accept", tableAccept).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)

	// Without headers, the rows alone.
	tab := getTable(t, cmPath+"?noHeaders=true&labelSelector=x%3Dy")
	if len(tab.ColumnDefinitions) != 0 || len(tab.Rows) == 0 {
		t.Errorf("noHeaders table: %d columns, %d rows", len(tab.ColumnDefinitions), len(tab.Rows))
	}
	// A table of nothing has rows, empty.
	r := call(t, "GET", cmPath+"?labelSelector=none%3Dsuch", nil, "Accept", tableAccept).must(t, http.StatusOK)
	if !strings.Contains(string(r.body), `"rows":[]`) {
		t.Errorf("empty table %s", r.body)
	}
}
