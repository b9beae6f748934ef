package testimages

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// downloadDeb fetches the .deb of a Debian package into dir with apt-get, which
// uses the machine's configured mirrors, and returns its path.
func downloadDeb(ctx context.Context, pkg, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "apt-get", "download", "-qq", pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %w: %s", pkg, err, bytes.TrimSpace(out))
	}
	matches, err := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if err != nil || len(matches) != 1 {
		return "", fmt.Errorf("apt-get download %s: want one .deb in %s, found %v", pkg, dir, matches)
	}
	return matches[0], nil
}

// fileFromDeb returns the content of one file of a .deb's data archive.
// dpkg-deb unpacks whichever compression the package uses.
func fileFromDeb(ctx context.Context, deb, name string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("dpkg-deb %s: %w", deb, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dpkg-deb %s: %w", deb, err)
	}
	data, found, readErr := findInTar(stdout, name)
	// Drain the rest so dpkg-deb does not die of a closed pipe.
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w: %s", deb, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if readErr != nil {
		return nil, fmt.Errorf("read %s: %w", deb, readErr)
	}
	if !found {
		return nil, fmt.Errorf("%s has no %s", deb, name)
	}
	return data, nil
}

func findInTar(r io.Reader, name string) ([]byte, bool, error) {
	want := path.Clean("/" + name)
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if hdr.Typeflag == tar.TypeReg && path.Clean("/"+hdr.Name) == want {
			data, err := io.ReadAll(tr)
			return data, err == nil, err
		}
	}
}

// installedFile returns the path of a file an installed Debian package owns, or
// "" when the package is not installed or has no such file.
func installedFile(pkg, suffix string) string {
	out, err := exec.Command("dpkg-query", "-L", pkg).Output()
	if err != nil {
		return ""
	}
	for _, line := range bytes.Split(out, []byte("\n")) {
		p := string(bytes.TrimSpace(line))
		if strings.HasSuffix(p, "/"+suffix) {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}
