package images

import "testing"

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"a bare Docker Hub name gets library/ and latest", "busybox", "docker.io/library/busybox:latest"},
		{"a Docker Hub name keeps its tag", "busybox:1.36", "docker.io/library/busybox:1.36"},
		{"a Docker Hub user image gets docker.io", "user/app:v1", "docker.io/user/app:v1"},
		{"a full name stays as it is", "registry.k8s.io/pause:3.10.1", "registry.k8s.io/pause:3.10.1"},
		{"a host with a port is a host", "localhost:5000/x/y", "localhost:5000/x/y:latest"},
		{"localhost is a host", "localhost/app:1", "localhost/app:1"},
		{"a dotted first component is a host", "minik8s.io/testserver", "minik8s.io/testserver:latest"},
		{"index.docker.io is docker.io", "index.docker.io/busybox:1", "docker.io/library/busybox:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeName(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormalizeNameRejectsBadNames(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"an empty name", ""},
		{"an upper-case repository", "docker.io/BusyBox"},
		{"a digest reference", "busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000"},
		{"an empty tag", "busybox:"},
		{"a tag with a slash-free bad character", "busybox:a+b"},
		{"an empty path component", "docker.io//busybox"},
		{"a host with a bad character", "re_gistry.io:x/app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := NormalizeName(tc.in); err == nil {
				t.Fatalf("NormalizeName(%q) = %q, want an error", tc.in, got)
			}
		})
	}
}
