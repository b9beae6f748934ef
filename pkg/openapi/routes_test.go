package openapi

import "testing"

func TestNamesFollowUpstream(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"the core group is tagged core", groupTag(""), "core"},
		{"a one-word group keeps its name", groupTag("apps"), "apps"},
		{"a k8s.io group drops the suffix and camel-cases the rest", groupTag("rbac.authorization.k8s.io"), "rbacAuthorization"},
		{"an apiserver group keeps its middle word", groupTag("flowcontrol.apiserver.k8s.io"), "flowcontrolApiserver"},
		{"a kind takes a", article("Pod") + "Pod", "a Pod"},
		{"a kind starting with a vowel takes an", article("Event") + "Event", "an Event"},
		{"a plural kind takes no article", article("Endpoints") + "Endpoints", "Endpoints"},
		{"a kind ending in ss is singular", article("IngressClass") + "IngressClass", "an IngressClass"},
		{"an empty kind takes no article", article(""), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
}

func TestQueryParamsFollowTheInstallersRules(t *testing.T) {
	type options struct {
		Name    string    `json:"name,omitempty"`
		Count   *int64    `json:"count,omitempty"`
		Flag    bool      `json:"flag"`
		Ports   []int32   `json:"ports"`
		Command []string  `json:"command"`
		Nested  struct{}  `json:"nested"`
		Ptr     *struct{} `json:"ptr"`
		NoTag   string
	}
	got := map[string]string{}
	for _, p := range queryParams(options{}, "flag") {
		got[p.name] = p.typ
	}
	want := map[string]string{"name": "string", "count": "integer", "ports": "integer", "command": "string"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}
