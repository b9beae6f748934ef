package imageimport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
)

// criNamespace is the containerd namespace the CRI plugin keeps its images in.
const criNamespace = "k8s.io"

// snapshotter is the one the agent's containerd configures for the CRI; images
// are unpacked into it at import so the first container starts at once.
const snapshotter = "overlayfs"

// ctrImport streams a tarball into containerd with `ctr images import -` and
// returns the names ctr reports having unpacked.
func ctrImport(ctx context.Context, ctr, socket string, tarball io.Reader) ([]string, error) {
	cmd := exec.CommandContext(ctx, ctr, "--address", socket, "--namespace", criNamespace,
		"images", "import", "--snapshotter", snapshotter, "-")
	var out bytes.Buffer
	cmd.Stdin = tarball
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ctr images import: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return unpackedNames(out.String()), nil
}

// unpackedLine is what ctr prints per image: "unpacking NAME (sha256:...)...done".
var unpackedLine = regexp.MustCompile(`(?m)^unpacking (\S+) \(sha256:[0-9a-f]+\)`)

func unpackedNames(out string) []string {
	var names []string
	for _, m := range unpackedLine.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	return names
}
