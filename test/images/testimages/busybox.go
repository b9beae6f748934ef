package testimages

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/minik8s/minik8s/pkg/images"
)

// BusyboxNames are the names the busybox image is imported under.
var BusyboxNames = []string{"docker.io/library/busybox:1.36", "docker.io/library/busybox:latest"}

// busybox is a static busybox executable and the applets it provides.
type busybox struct {
	binary  []byte
	version string   // first line of its --help, e.g. "BusyBox v1.35.0 (Debian ...)"
	applets []string // full paths as --list-full prints them, e.g. "usr/bin/wget"
}

// loadBusybox finds a static busybox: the one given (an executable or a .deb),
// else the one of the installed busybox-static package, else busybox-static
// downloaded with apt-get.
func loadBusybox(ctx context.Context, given, workDir string) (*busybox, error) {
	file := given
	if file == "" {
		file = installedFile("busybox-static", "bin/busybox")
	}
	if file == "" {
		deb, err := downloadDeb(ctx, "busybox-static", workDir)
		if err != nil {
			return nil, fmt.Errorf("busybox: not installed and not downloadable: %w", err)
		}
		file = deb
	}
	var data []byte
	var err error
	if strings.HasSuffix(file, ".deb") {
		data, err = fileFromDeb(ctx, file, "bin/busybox")
		if err != nil {
			data, err = fileFromDeb(ctx, file, "usr/bin/busybox")
		}
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("busybox from %s: %w", file, err)
	}
	if err := checkStatic(data); err != nil {
		return nil, fmt.Errorf("busybox from %s: %w", file, err)
	}

	// Ask the executable itself for its applets: run a copy, since the source
	// may be a .deb.
	exe := filepath.Join(workDir, "busybox")
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		return nil, fmt.Errorf("busybox: %w", err)
	}
	list, err := exec.CommandContext(ctx, exe, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list-full: %w", err)
	}
	help, _ := exec.CommandContext(ctx, exe, "--help").Output()
	version, _, _ := strings.Cut(string(help), "\n")
	bb := &busybox{binary: data, version: strings.TrimSpace(version)}
	for _, a := range strings.Fields(string(list)) {
		bb.applets = append(bb.applets, strings.TrimPrefix(a, "/"))
	}
	if len(bb.applets) == 0 {
		return nil, fmt.Errorf("busybox from %s lists no applets", file)
	}
	return bb, nil
}

// checkStatic makes sure an executable needs no dynamic loader or libraries,
// which the image would not have.
func checkStatic(data []byte) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not an ELF executable: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("dynamically linked: install busybox-static, not busybox")
		}
	}
	return nil
}

// rootfsLayer is the busybox image's file system: every applet a hard link in
// /bin (as in the upstream image), a symlink at its usual path elsewhere
// (/sbin/ip, /usr/bin/env) so absolute paths in scripts work, and the files
// and directories a container expects.
func (bb *busybox) rootfsLayer() *images.Layer {
	l := images.NewLayer()
	l.File("bin/busybox", 0o755, bb.binary)
	for _, a := range bb.applets {
		name := path.Base(a)
		if name == "busybox" {
			continue
		}
		l.Hardlink("bin/"+name, "bin/busybox")
		if path.Dir(a) != "bin" {
			l.Symlink(a, "/bin/"+name)
		}
	}
	l.File("etc/passwd", 0o644, []byte(
		"root:x:0:0:root:/root:/bin/sh\n"+
			"nobody:x:65534:65534:nobody:/home:/bin/false\n"))
	l.File("etc/group", 0o644, []byte(
		"root:x:0:\n"+
			"nobody:x:65534:\n"))
	l.Dir("tmp", 0o777|os.ModeSticky)
	l.Dir("var/tmp", 0o777|os.ModeSticky)
	l.Dir("root", 0o700)
	l.Dir("home", 0o755)
	l.Dir("usr/sbin", 0o755)
	return l
}

// image is the busybox image: base (from rootfsLayer) and a shell.
func (bb *busybox) image(base *images.Layer) *images.Image {
	return &images.Image{
		Names:  BusyboxNames,
		Config: images.Config{Cmd: []string{"sh"}, Labels: map[string]string{labelBuiltFrom: "Debian busybox-static: " + bb.version}},
		Layers: []*images.Layer{base},
	}
}
