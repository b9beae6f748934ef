package all

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/minik8s/minik8s/pkg/registry"
)

// The golden files were captured from an upstream v1.34 API server: its
// discovery documents and the table columns it prints, for every group this
// registry serves besides core.

type discovered struct {
	Name               string   `json:"name"`
	Kind               string   `json:"kind"`
	Namespaced         bool     `json:"namespaced"`
	Verbs              []string `json:"verbs"`
	SingularName       string   `json:"singularName,omitempty"`
	ShortNames         []string `json:"shortNames,omitempty"`
	Categories         []string `json:"categories,omitempty"`
	StorageVersionHash string   `json:"storageVersionHash,omitempty"`
}

type column struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Format   string `json:"format"`
	Priority int32  `json:"priority"`
}

func readGolden(t *testing.T, name string, v interface{}) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// hash is the storage version hash upstream advertises: the first eight bytes
// of the SHA-256 of group/version/kind of the stored version.
func hash(r *registry.Resource) string {
	if r.StorageVersionHash != "" {
		return r.StorageVersionHash
	}
	if r.Create != nil {
		return ""
	}
	gvk := r.StorageGVK()
	sum := sha256.Sum256([]byte(gvk.Group + "/" + gvk.Version + "/" + gvk.Kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}

// sorted copies s in order; empty is nil, as the golden file leaves it out.
func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

func TestDiscoveryMatchesUpstream(t *testing.T) {
	var golden map[string][]discovered
	readGolden(t, "discovery.json", &golden)
	byGV := map[string][]discovered{}
	for _, r := range build(t).All() {
		gv := r.GroupVersion().String()
		if _, served := golden[gv]; !served {
			continue
		}
		byGV[gv] = append(byGV[gv], discovered{Name: r.Name, Kind: r.Kind, Namespaced: r.Namespaced, Verbs: sorted(r.VerbList()),
			SingularName: r.SingularName, ShortNames: sorted(r.ShortNames), Categories: sorted(r.Categories), StorageVersionHash: hash(r)})
		for _, sub := range r.AllSubresources() {
			byGV[gv] = append(byGV[gv], discovered{Name: r.Name + "/" + sub.Name, Kind: sub.Kind.Kind, Namespaced: r.Namespaced, Verbs: sorted(sub.Verbs)})
		}
	}
	for gv, want := range golden {
		got := byGV[gv]
		sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
		for i := range want {
			want[i].ShortNames, want[i].Categories = sorted(want[i].ShortNames), sorted(want[i].Categories)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", gv, got, want)
		}
	}
}

func TestTableColumnsMatchUpstream(t *testing.T) {
	var golden map[string][]column
	readGolden(t, "columns.json", &golden)
	defaults := []column{{"Name", "string", "name", 0}, {"Created At", "date", "", 0}}
	for _, r := range build(t).All() {
		key := r.GroupVersion().String() + "/" + r.Name
		want, ok := golden[key]
		if !ok {
			continue
		}
		got := defaults
		if r.Table != nil {
			got = nil
			for _, c := range r.Table.Columns() {
				got = append(got, column{c.Name, c.Type, c.Format, c.Priority})
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s columns:\n got %v\nwant %v", key, got, want)
		}
		delete(golden, key)
	}
	for key := range golden {
		t.Errorf("%s is not served", key)
	}
}

func TestBuildTwiceRegistersConversionsOnce(t *testing.T) {
	build(t)
	build(t)
}
