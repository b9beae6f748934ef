package envvars

import "testing"

func TestExpand(t *testing.T) {
	vals := map[string]string{"A": "1", "POD": "web-0"}
	for in, want := range map[string]string{
		"$(A)":            "1",
		"x-$(A)-$(POD)":   "x-1-web-0",
		"$$(A)":           "$(A)",
		"$(MISSING)":      "$(MISSING)",
		"$(A":             "$(A",
		"cost $5":         "cost $5",
		"trailing $":      "trailing $",
		"logs/$(POD)/out": "logs/web-0/out",
	} {
		if got := Expand(in, vals); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}
