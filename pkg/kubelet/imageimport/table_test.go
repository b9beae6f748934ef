package imageimport

import (
	"bytes"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestImagesPrintLikeCrictl(t *testing.T) {
	imgs := []*runtimeapi.Image{
		{Id: "sha256:d7b100cd9a77ba782c5e428c8dd5a1df4a1e1d6b2d3c3d4b5a6f7e8d9c0b1a2f", RepoTags: []string{"registry.k8s.io/pause:3.10.1"}, Size: 320000},
		{Id: "sha256:aaaabbbbccccdddd0000111122223333444455556666777788889999aaaabbbb",
			RepoTags: []string{"docker.io/library/busybox:1.36", "docker.io/library/busybox:latest"}, Size: 4270001},
		{Id: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			RepoDigests: []string{"localhost:5000/app@sha256:feed"}, Size: 1234567890},
		{Id: "sha256:ffff", Size: 999},
	}
	var b bytes.Buffer
	if err := WriteTable(&b, imgs, false); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"IMAGE                       TAG                 IMAGE ID            SIZE\n" +
		"<none>                      <none>              ffff                999B\n" +
		"docker.io/library/busybox   1.36                aaaabbbbccccd       4.27MB\n" +
		"docker.io/library/busybox   latest              aaaabbbbccccd       4.27MB\n" +
		"localhost:5000/app          <none>              0123456789abc       1.23GB\n" +
		"registry.k8s.io/pause       3.10.1              d7b100cd9a77b       320kB\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteTable(&b, imgs[:1], true)
	if b.String() != imgs[0].Id+"\n" {
		t.Errorf("quiet: %q", b.String())
	}
}

func TestSplitTagLeavesARegistryPortAlone(t *testing.T) {
	for ref, want := range map[string][2]string{
		"localhost:5000/app:v1": {"localhost:5000/app", "v1"},
		"localhost:5000/app":    {"localhost:5000/app", "<none>"},
		"busybox:1.36":          {"busybox", "1.36"},
	} {
		repo, tag := splitTag(ref)
		if repo != want[0] || tag != want[1] {
			t.Errorf("splitTag(%s) = %s, %s", ref, repo, tag)
		}
	}
}
