package cni

import (
	"reflect"
	"testing"
)

func TestIptablesRulesSplitLikeTheShellWould(t *testing.T) {
	for line, want := range map[string][]string{
		`-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ`: {
			"-A", "POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"},
		`-A X -m comment --comment "say \"hi\"" -j ACCEPT`: {"-A", "X", "-m", "comment", "--comment", `say "hi"`, "-j", "ACCEPT"},
		`-N CNI-FORWARD`:         {"-N", "CNI-FORWARD"},
		`-A X --comment "" -j Y`: {"-A", "X", "--comment", "", "-j", "Y"},
	} {
		got := splitRule(line)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("splitRule(%s) = %q, want %q", line, got, want)
		}
	}
}

func TestRuleTargetIsTheJumpOrGoto(t *testing.T) {
	if got := ruleTarget(splitRule("-A FORWARD -m comment --comment x -j CNI-FORWARD")); got != "CNI-FORWARD" {
		t.Errorf("got %q", got)
	}
	if got := ruleTarget(splitRule("-A A -g B")); got != "B" {
		t.Errorf("got %q", got)
	}
	if got := ruleTarget(splitRule("-P INPUT ACCEPT")); got != "" {
		t.Errorf("got %q", got)
	}
}
