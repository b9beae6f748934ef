package config

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	schedv1 "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func registry(names ...string) map[string]fw.Factory {
	r := map[string]fw.Factory{}
	for _, p := range defaultPlugins().MultiPoint.Enabled {
		r[p.Name] = nil
	}
	for _, n := range names {
		r[n] = nil
	}
	return r
}

func load(t *testing.T, y string) *schedv1.KubeSchedulerConfiguration {
	t.Helper()
	cfg, err := Load([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	SetDefaults(cfg)
	return cfg
}

func TestAnEmptyConfigurationGetsUpstreamsDefaultProfile(t *testing.T) {
	cfg := load(t, "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n")
	ps := Profiles(cfg)
	if len(ps) != 1 || ps[0].SchedulerName != "default-scheduler" {
		t.Fatalf("profiles %+v", ps)
	}
	if got := len(ps[0].MultiPoint); got != len(defaultPlugins().MultiPoint.Enabled) {
		t.Fatalf("%d multipoint plugins", got)
	}
	if *cfg.PodInitialBackoffSeconds != 1 || *cfg.PodMaxBackoffSeconds != 10 || *cfg.Parallelism != 16 {
		t.Fatalf("defaults %v %v %v", *cfg.PodInitialBackoffSeconds, *cfg.PodMaxBackoffSeconds, *cfg.Parallelism)
	}
}

func TestAProfileDisablingAndReweightingDefaultsKeepsUpstreamsOrder(t *testing.T) {
	cfg := load(t, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: custom
  plugins:
    multiPoint:
      enabled: [{name: NodeAffinity, weight: 7}, {name: MyPlugin}]
      disabled: [{name: ImageLocality}]
`)
	mp := Profiles(cfg)[0].MultiPoint
	var names []string
	for _, r := range mp {
		names = append(names, r.Name)
		if r.Name == "NodeAffinity" && r.Weight != 7 {
			t.Errorf("NodeAffinity weight %d, want 7", r.Weight)
		}
	}
	got := strings.Join(names, ",")
	if strings.Contains(got, "ImageLocality") {
		t.Errorf("disabled plugin still enabled: %s", got)
	}
	if !strings.HasSuffix(got, "DefaultBinder,MyPlugin") || !strings.Contains(got, "TaintToleration,NodeAffinity,NodePorts") {
		t.Errorf("order %s: replaced defaults keep their place, new plugins come last", got)
	}
}

func TestPluginArgsAreDecodedIntoTheirTypes(t *testing.T) {
	cfg := load(t, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy: {type: MostAllocated}
`)
	a, ok := Profiles(cfg)[0].Args["NodeResourcesFit"].(*schedv1.NodeResourcesFitArgs)
	if !ok || a.ScoringStrategy.Type != schedv1.MostAllocated {
		t.Fatalf("args %#v", Profiles(cfg)[0].Args["NodeResourcesFit"])
	}
}

func TestInvalidConfigurationsNameTheField(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"percentage out of range", "percentageOfNodesToScore: 101", "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"},
		{"back-off shorter than its start", "podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2", "podMaxBackoffSeconds: Invalid value: 2: must be greater than or equal to PodInitialBackoffSeconds"},
		{"an unknown plugin", "profiles:\n- plugins:\n    filter:\n      enabled: [{name: Nope}]", `profiles[0].plugins.filter.enabled[0].name: Not found: "Nope"`},
		{"a negative weight", "profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeAffinity, weight: -1}]", "profiles[0].plugins.score.enabled[0].weight: Invalid value: -1"},
		{"a removed plugin", "profiles:\n- plugins:\n    filter:\n      enabled: [{name: EBSLimits}]", `profiles[0].plugins.filter.enabled[0]: Invalid value: "EBSLimits": was invalid in version`},
		{"two profiles with one name", "profiles:\n- schedulerName: a\n- schedulerName: a", `profiles[1].schedulerName: Invalid value: "a"`},
		{"queue sort differing between profiles", "profiles:\n- schedulerName: a\n- schedulerName: b\n  plugins:\n    queueSort:\n      disabled: [{name: '*'}]\n      enabled: [{name: Other}]", "profiles[1].plugins.queueSort: Invalid value"},
		{"bad plugin args", "profiles:\n- pluginConfig:\n  - name: X\n    args: {}\n  - name: X\n    args: {}", "profiles[0].pluginConfig[1]: Duplicate value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := load(t, "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"+c.yaml+"\n")
			err := Validate(cfg, registry("Other"), map[string]ArgsValidator{"X": func(*field.Path, runtime.Object) error { return nil }})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestUnknownFieldsAreRefused(t *testing.T) {
	_, err := Load([]byte("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofile: []\n"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "profile"`) {
		t.Fatalf("error %v", err)
	}
}

func TestTheDefaultConfigurationValidatesAndRoundTrips(t *testing.T) {
	cfg := Default()
	if err := Validate(cfg, registry("RoundRobin"), nil); err != nil {
		t.Fatal(err)
	}
	y, err := Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	SetDefaults(back)
	if len(Profiles(back)) != 3 {
		t.Fatalf("%d profiles after a round trip", len(Profiles(back)))
	}
	if a, ok := Profiles(back)[1].Args["NodeResourcesFit"].(*schedv1.NodeResourcesFitArgs); !ok || a.ScoringStrategy.Type != schedv1.MostAllocated {
		t.Fatalf("bin-packing args lost: %#v", Profiles(back)[1].Args)
	}
}
