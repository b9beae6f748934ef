// Package imageimport puts image tarballs (docker-archive or OCI archive,
// optionally gzipped) into the node's containerd, in the k8s.io namespace the
// CRI reads, and lists the images the CRI sees.
//
// containerd has no CRI call for import, so the tarball goes through Debian's
// ctr, which ships with containerd at the daemon's own version. That is lighter
// than containerd's Go client, whose module would pull a second copy of much of
// the container ecosystem into the binary, at versions that fight the k8s.io
// modules', for one call.
package imageimport
