// Package images writes container image tarballs from in-memory layers, with no
// registry, daemon or external tool, and builds the pause image the node agent
// imports into containerd at start.
//
// A tarball holds the image twice over, sharing the same blobs: an OCI image
// layout (oci-layout, index.json, blobs/sha256/...), which containerd prefers, and
// the docker-archive manifest.json of `docker save`, which older tools read.
// Output is reproducible: fixed timestamps, sorted entries, no host ownership, so
// the same inputs always give the same digests.
package images
