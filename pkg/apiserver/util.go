package apiserver

import (
	"encoding/json"
	"sort"
)

func jsonStdMarshal(v interface{}) ([]byte, error) { return json.Marshal(v) }

func jsonUnmarshal(data []byte, v interface{}) error { return json.Unmarshal(data, v) }

func uniqueSorted(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// hasGroupVersion reports whether discovery serves a group version.
func (d *discoveryDocs) hasGroupVersion(group, version string) bool {
	d.build()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, g := range d.groups {
		if g.name == group {
			for _, v := range g.versions {
				if v == version {
					return true
				}
			}
		}
	}
	return false
}
