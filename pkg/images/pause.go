package images

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
)

//go:generate sh pause_gen.sh

// PauseImageName is the pause image upstream's kubelet and containerd default to,
// so configurations and tests that name it find ours.
const PauseImageName = "registry.k8s.io/pause:3.10.1"

// pauseUID is the user upstream's pause image runs as: nobody needs root to sleep.
const pauseUID = "65535:65535"

var pauseOnce = sync.OnceValue(func() []byte {
	if pauseELF == nil {
		panic(fmt.Sprintf("images: no pause executable for GOARCH=%s (amd64 and arm64 are built)", runtime.GOARCH))
	}
	l := NewLayer()
	l.File("pause", 0o755, pauseELF)
	img := &Image{
		Names:  []string{PauseImageName},
		Config: Config{Entrypoint: []string{"/pause"}, User: pauseUID, WorkingDir: "/"},
		Layers: []*Layer{l},
	}
	data, err := img.Bytes()
	if err != nil {
		panic(fmt.Sprintf("images: build pause image: %v", err))
	}
	return data
})

// PauseImage returns the pause image as a tarball for `ctr images import` or
// containerd's import API, and the name it is imported under. The executable is
// assembled from pause_$GOARCH.asm at development time, so building the image
// needs no compiler, registry or network. It panics on an architecture without
// a pause executable (only amd64 and arm64 have one).
func PauseImage() (tarball []byte, name string) {
	return bytes.Clone(pauseOnce()), PauseImageName
}
