package interpodaffinity

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

// argsOrNil keeps a nil *InterPodAffinityArgs from becoming a non-nil interface.
func argsOrNil(a *schedconfig.InterPodAffinityArgs) runtime.Object {
	if a == nil {
		return nil
	}
	return a
}

func TestNewValidatesArgs(t *testing.T) {
	cases := []struct {
		name    string
		args    runtime.Object
		wantErr string
	}{
		{"no args take the defaults", nil, ""},
		{"hardPodAffinityWeight 0 turns that scoring off", &schedconfig.InterPodAffinityArgs{HardPodAffinityWeight: ptr.To[int32](0)}, ""},
		{"hardPodAffinityWeight 100 is the most allowed", &schedconfig.InterPodAffinityArgs{HardPodAffinityWeight: ptr.To[int32](100)}, ""},
		{"an unset hardPodAffinityWeight defaults to 1", &schedconfig.InterPodAffinityArgs{}, ""},
		{"a negative hardPodAffinityWeight is refused with upstream's message", &schedconfig.InterPodAffinityArgs{HardPodAffinityWeight: ptr.To[int32](-1)},
			"hardPodAffinityWeight: Invalid value: -1: not in valid range [0, 100]"},
		{"a hardPodAffinityWeight over 100 is refused", &schedconfig.InterPodAffinityArgs{HardPodAffinityWeight: ptr.To[int32](101)},
			"hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"},
		{"args of another plugin are refused", &schedconfig.NodeAffinityArgs{}, "want args to be of type InterPodAffinityArgs, got *v1.NodeAffinityArgs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(context.Background(), c.args, pt.NewHandle(nil))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.wantErr {
				t.Fatalf("got error %q, want %q", got, c.wantErr)
			}
		})
	}
}
