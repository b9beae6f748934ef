package containerd

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRenderMatchesTheGoldenConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"cgroupfs.toml", Config{
			Dir: "/var/lib/minik8s/agent/containerd", SandboxImage: "registry.k8s.io/pause:3.10.1",
			CgroupDriver: CgroupDriverCgroupfs, RestrictOOMScoreAdj: true,
			CNIBinDir: "/usr/lib/cni", CNIConfDir: "/var/lib/minik8s/agent/cni/net.d", StreamServerAddress: "127.0.0.1",
		}},
		{"systemd.toml", Config{
			Dir: `/srv/odd "dir"`, SandboxImage: "registry.k8s.io/pause:3.10.1",
			CgroupDriver: CgroupDriverSystemd, RestrictOOMScoreAdj: false,
			CNIBinDir: "/opt/cni/bin", CNIConfDir: "/etc/cni/net.d", StreamServerAddress: "10.0.0.5",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("rendered config differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestTOMLStringsEscapeQuotesBackslashesAndControlCharacters(t *testing.T) {
	if got, want := tomlString("a\"b\\c\nd"), `"a\"b\\c\u000Ad"`; got != want {
		t.Errorf("tomlString = %s, want %s", got, want)
	}
}
