package plugins_test

import (
	"testing"

	"github.com/minik8s/minik8s/pkg/scheduler/config"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins"
)

func TestValidatePluginArgs(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want string
	}{
		{name: "DefaultPreemption args in range are valid", yaml: `
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: DefaultPreemption
    args:
      minCandidateNodesPercentage: 20
`},
		{name: "DefaultPreemption args out of range are refused at their field path", yaml: `
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args: {}
  - name: DefaultPreemption
    args:
      minCandidateNodesPercentage: 101
      minCandidateNodesAbsolute: -1
`, want: "[profiles[0].pluginConfig[1].args.minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100], " +
			"profiles[0].pluginConfig[1].args.minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Load([]byte("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration" + c.yaml))
			if err != nil {
				t.Fatal(err)
			}
			config.SetDefaults(cfg)
			err = config.Validate(cfg, plugins.Registry(), plugins.ArgsValidators())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
