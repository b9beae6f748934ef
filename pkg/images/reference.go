package images

import (
	"fmt"
	"regexp"
	"strings"
)

// Parts of a reference as the distribution spec writes them: a path of
// lowercase components, and a tag of up to 128 word characters, dots and dashes.
var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	hostPart      = regexp.MustCompile(`^[a-zA-Z0-9.-]+(?::[0-9]+)?$`)
	tagPart       = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$`)
)

// NormalizeName returns the full form of an image name, the one containerd and
// the CRI store: "busybox" becomes "docker.io/library/busybox:latest",
// "user/app:1" becomes "docker.io/user/app:1". Digest references are refused,
// since a tarball names its images by tag.
func NormalizeName(name string) (string, error) {
	if strings.Contains(name, "@") {
		return "", fmt.Errorf("image name %q: digest references are not supported", name)
	}
	repo, tag := name, "latest"
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		repo, tag = name[:i], name[i+1:]
	}
	if !tagPart.MatchString(tag) {
		return "", fmt.Errorf("image name %q: invalid tag %q", name, tag)
	}
	parts := strings.Split(repo, "/")
	host := "docker.io"
	// The first component is a registry host when it looks like one.
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost" || parts[0] != strings.ToLower(parts[0])) {
		host, parts = parts[0], parts[1:]
		if !hostPart.MatchString(host) {
			return "", fmt.Errorf("image name %q: invalid registry host %q", name, host)
		}
	}
	if host == "index.docker.io" {
		host = "docker.io"
	}
	if host == "docker.io" && len(parts) == 1 {
		parts = append([]string{"library"}, parts...)
	}
	for _, p := range parts {
		if !pathComponent.MatchString(p) {
			return "", fmt.Errorf("image name %q: invalid path component %q", name, p)
		}
	}
	return host + "/" + strings.Join(parts, "/") + ":" + tag, nil
}

// tagOf returns the tag of a normalized name.
func tagOf(normalized string) string {
	return normalized[strings.LastIndex(normalized, ":")+1:]
}
