package containerd

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
)

// configTemplate is containerd 1.6's version 2 configuration, as Debian 12
// ships it. Only what differs from containerd's defaults, or what must not
// depend on them, is written.
var configTemplate = template.Must(template.New("config.toml").Funcs(template.FuncMap{"q": tomlString}).Parse(
	`# Written by the minik8s node agent at every start: edits here are lost.
version = 2
root = {{q .Root}}
state = {{q .State}}
# Snapshotters this node never uses; left on, each logs an error at start on
# hosts without its file system.
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = {{q .Socket}}

[ttrpc]
  address = {{q .TTRPCSocket}}

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = {{q .OptDir}}

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = {{q .SandboxImage}}
    stream_server_address = {{q .StreamAddress}}
    stream_server_port = "0"
    enable_selinux = false
    restrict_oom_score_adj = {{.RestrictOOM}}

    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = {{.SystemdCgroup}}
          # runc's own state, kept apart from a system containerd's /run/containerd/runc
          Root = {{q .RuncRoot}}

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = {{q .CNIBinDir}}
      conf_dir = {{q .CNIConfDir}}
      max_conf_num = 1

    [plugins."io.containerd.grpc.v1.cri".registry]
      # one hosts.toml per registry (mirrors, plain-HTTP local registries)
      config_path = {{q .RegistryDir}}
`))

// Render returns the containerd configuration file for cfg.
func Render(cfg Config) ([]byte, error) {
	data := struct {
		Root, State, Socket, TTRPCSocket, OptDir     string
		SandboxImage, StreamAddress                  string
		RestrictOOM, SystemdCgroup                   bool
		RuncRoot, CNIBinDir, CNIConfDir, RegistryDir string
	}{
		Root:          cfg.rootDir(),
		State:         cfg.stateDir(),
		Socket:        cfg.Socket(),
		TTRPCSocket:   cfg.Socket() + ".ttrpc",
		OptDir:        cfg.Dir + "/opt",
		SandboxImage:  cfg.SandboxImage,
		StreamAddress: cfg.StreamServerAddress,
		RestrictOOM:   cfg.RestrictOOMScoreAdj,
		SystemdCgroup: cfg.CgroupDriver == CgroupDriverSystemd,
		RuncRoot:      cfg.stateDir() + "/runc",
		CNIBinDir:     cfg.CNIBinDir,
		CNIConfDir:    cfg.CNIConfDir,
		RegistryDir:   cfg.registryDir(),
	}
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render containerd config: %w", err)
	}
	return b.Bytes(), nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
