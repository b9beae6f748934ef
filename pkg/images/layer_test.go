package images

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"strings"
	"testing"
)

func TestLayerTarHoldsModesLinksAndParents(t *testing.T) {
	l := NewLayer()
	l.File("/bin/busybox", 0o755, []byte("ELF"))
	l.Hardlink("bin/ash", "/bin/busybox")
	l.Symlink("usr/bin/env", "/bin/busybox")
	l.Dir("tmp", 0o777|fs.ModeSticky)
	l.File("usr/local/bin/suid", 0o755|fs.ModeSetuid, nil)
	if err := l.Add(Entry{Path: "home/user/.profile", Kind: KindFile, Mode: 0o600, UID: 1000, GID: 50000, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	data, err := l.Tar()
	if err != nil {
		t.Fatal(err)
	}

	type row struct {
		name     string
		typ      byte
		mode     int64
		link     string
		uid, gid int
		body     string
	}
	var got []row
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !hdr.ModTime.Equal(Epoch) {
			t.Errorf("%s: mtime %v, want %v", hdr.Name, hdr.ModTime, Epoch)
		}
		body, _ := io.ReadAll(tr)
		got = append(got, row{hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Linkname, hdr.Uid, hdr.Gid, string(body)})
	}
	want := []row{
		{"bin/", tar.TypeDir, 0o755, "", 0, 0, ""},
		{"bin/busybox", tar.TypeReg, 0o755, "", 0, 0, "ELF"},
		{"home/", tar.TypeDir, 0o755, "", 0, 0, ""},
		{"home/user/", tar.TypeDir, 0o755, "", 0, 0, ""},
		{"home/user/.profile", tar.TypeReg, 0o600, "", 1000, 50000, "x"},
		{"tmp/", tar.TypeDir, 0o1777, "", 0, 0, ""},
		{"usr/", tar.TypeDir, 0o755, "", 0, 0, ""},
		{"usr/bin/", tar.TypeDir, 0o755, "", 0, 0, ""},
		{"usr/bin/env", tar.TypeSymlink, 0o777, "/bin/busybox", 0, 0, ""},
		{"usr/local/", tar.TypeDir, 0o755, "", 0, 0, ""},
		{"usr/local/bin/", tar.TypeDir, 0o755, "", 0, 0, ""},
		{"usr/local/bin/suid", tar.TypeReg, 0o4755, "", 0, 0, ""},
		// hard links come last, after the file they name, with its mode
		{"bin/ash", tar.TypeLink, 0o755, "bin/busybox", 0, 0, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("layer has %d entries, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestLayerTarIsReproducible(t *testing.T) {
	build := func() []byte {
		l := NewLayer()
		for _, n := range []string{"z", "a", "m/n", "b/c/d"} {
			l.File(n, 0o644, []byte(n))
		}
		b, err := l.Tar()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(build(), build()) {
		t.Fatal("the same layer built twice gave different bytes")
	}
}

func TestLayerAddingAPathTwiceKeepsTheLast(t *testing.T) {
	l := NewLayer()
	l.File("etc/passwd", 0o644, []byte("old"))
	l.File("etc/passwd", 0o600, []byte("new"))
	entries, err := l.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || string(entries[1].Data) != "new" || entries[1].Mode != 0o600 {
		t.Fatalf("entries = %+v", entries)
	}
}

func TestLayerRejectsBadEntries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(l *Layer)
		want  string
	}{
		{"a path that climbs out with ..", func(l *Layer) { l.File("../etc/passwd", 0o644, nil) }, ".. element"},
		{"the root itself", func(l *Layer) { l.Dir("/", 0o755) }, "empty path"},
		{"a symlink without a target", func(l *Layer) { l.Symlink("bin/sh", "") }, "without a target"},
		{"a hard link to a file not in the layer", func(l *Layer) { l.Hardlink("bin/sh", "bin/busybox") }, "not a file in this layer"},
		{"a hard link to a directory", func(l *Layer) { l.Dir("bin", 0o755); l.Hardlink("x", "bin") }, "not a file in this layer"},
		{"a file below a file", func(l *Layer) { l.File("bin", 0o755, nil); l.File("bin/sh", 0o755, nil) }, `parent "bin" is a file`},
		{"a mode with type bits", func(l *Layer) { l.File("x", fs.ModeDir|0o755, nil) }, "type bits"},
		{"an unknown kind", func(l *Layer) { l.record(l.Add(Entry{Path: "x", Kind: 42})) }, "unknown kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLayer()
			tc.build(l)
			_, err := l.Tar()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Tar() error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
