package cli

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/minik8s/minik8s/pkg/kubelet/logs"
)

func TestLogFlagsTakeQuantitiesWithUpstreamDefaults(t *testing.T) {
	var p logs.Policy
	f := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addLogFlags(f, &p)
	if p.MaxSize != 10<<20 || p.MaxFiles != 5 {
		t.Fatalf("defaults %+v, want 10Mi and 5 files", p)
	}
	if err := f.Parse([]string{"--container-log-max-size", "256Ki", "--container-log-max-files", "3"}); err != nil {
		t.Fatal(err)
	}
	if p.MaxSize != 256<<10 || p.MaxFiles != 3 {
		t.Fatalf("parsed %+v", p)
	}
	if got := f.Lookup("container-log-max-size").Value.String(); got != "256Ki" {
		t.Errorf("shown as %q", got)
	}
	for _, bad := range []string{"lots", "-1Mi"} {
		if err := f.Parse([]string{"--container-log-max-size", bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
