// Package testimages builds, without any registry, the container images the
// minik8s tests run: busybox from Debian's busybox-static, the minik8s test server,
// an nginx stand-in and the pause image. `go run ./test/images -out DIR` writes
// them as tarballs; end-to-end tests call Build directly.
package testimages
