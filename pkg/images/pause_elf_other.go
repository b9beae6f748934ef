//go:build !amd64 && !arm64

package images

// pauseELF is nil where no pause_<arch>.asm exists; PauseImage panics there.
var pauseELF []byte
