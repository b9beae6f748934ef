package podtopologyspread

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

func TestNewValidatesArgs(t *testing.T) {
	list := func(cs ...corev1.TopologySpreadConstraint) *schedconfig.PodTopologySpreadArgs {
		return &schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.ListDefaulting, DefaultConstraints: cs}
	}
	zoneHard := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule}
	cases := []struct {
		name    string
		args    runtime.Object
		wantErr string
	}{
		{"no args take system defaulting", nil, ""},
		{"an empty defaultingType is System", &schedconfig.PodTopologySpreadArgs{}, ""},
		{"List defaulting with valid constraints is accepted", list(zoneHard,
			corev1.TopologySpreadConstraint{MaxSkew: 3, TopologyKey: hostname, WhenUnsatisfiable: corev1.ScheduleAnyway}), ""},
		{"List defaulting without constraints is accepted", list(), ""},
		{"System defaulting with constraints of its own is refused",
			&schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.SystemDefaulting, DefaultConstraints: []corev1.TopologySpreadConstraint{zoneHard}},
			`defaultingType: Invalid value: "System": when .defaultConstraints are not empty`},
		{"an unknown defaultingType is refused", &schedconfig.PodTopologySpreadArgs{DefaultingType: "Sometimes"},
			`defaultingType: Unsupported value: "Sometimes": supported values: "System", "List"`},
		{"maxSkew must be positive", list(corev1.TopologySpreadConstraint{TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule}),
			"defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf)"},
		{"topologyKey is required", list(corev1.TopologySpreadConstraint{MaxSkew: 1, WhenUnsatisfiable: corev1.DoNotSchedule}),
			"defaultConstraints[0].topologyKey: Required value: can not be empty"},
		{"whenUnsatisfiable is required", list(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone}),
			"defaultConstraints[0].whenUnsatisfiable: Required value: can not be empty"},
		{"an unknown whenUnsatisfiable is refused", list(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: "Maybe"}),
			`defaultConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"`},
		{"a label selector is refused", list(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{}}),
			"defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod"},
		{"two constraints with the same key and action are refused", list(zoneHard, zoneHard),
			`defaultConstraints[1]: Duplicate value: "{topology.kubernetes.io/zone, DoNotSchedule}"`},
		{"every problem is reported", list(corev1.TopologySpreadConstraint{TopologyKey: "bad key!", WhenUnsatisfiable: corev1.DoNotSchedule}),
			`[defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf), defaultConstraints[0].topologyKey: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]`},
		{"args of another plugin are refused", &schedconfig.InterPodAffinityArgs{}, "want args to be of type PodTopologySpreadArgs, got *v1.InterPodAffinityArgs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(context.Background(), c.args, pt.NewHandle(informers.NewSharedInformerFactory(nil, 0)))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.wantErr {
				t.Fatalf("got error %q\nwant       %q", got, c.wantErr)
			}
		})
	}
}

func TestNewWithoutInformersNeedsNoDefaults(t *testing.T) {
	if _, err := New(context.Background(), nil, pt.NewHandle(nil)); err == nil || err.Error() != "SharedInformerFactory is nil" {
		t.Fatalf("system defaults without informers: got %v", err)
	}
	if _, err := New(context.Background(), &schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.ListDefaulting}, pt.NewHandle(nil)); err != nil {
		t.Fatalf("no default constraints need no informers: %v", err)
	}
}
