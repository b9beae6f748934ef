// Package version reports the Kubernetes version minik8s implements: the version of
// the k8s.io/api module it is built with, plus a "+minik8s" suffix.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	apimachineryversion "k8s.io/apimachinery/pkg/version"
)

// Set by the build with -ldflags -X; when empty they are derived from the build info.
var (
	gitVersion   = ""
	gitCommit    = ""
	gitTreeState = ""
	buildDate    = "1970-01-01T00:00:00Z"
)

var (
	once sync.Once
	info apimachineryversion.Info
)

// Get returns the version of this binary in the shape /version serves.
func Get() apimachineryversion.Info {
	once.Do(func() {
		v := gitVersion
		if v == "" {
			v = fromBuildInfo()
		}
		major, minor := majorMinor(v)
		info = apimachineryversion.Info{
			Major:        major,
			Minor:        minor,
			GitVersion:   v,
			GitCommit:    gitCommit,
			GitTreeState: gitTreeState,
			BuildDate:    buildDate,
			GoVersion:    runtime.Version(),
			Compiler:     runtime.Compiler,
			Platform:     fmt.Sprintf("%s/%s", runtime.GOOS, runtime.GOARCH),
		}
	})
	return info
}

// fromBuildInfo maps the k8s.io/api module version v0.X.Y to Kubernetes v1.X.Y.
func fromBuildInfo() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "v1.0.0+minik8s"
	}
	for _, d := range bi.Deps {
		if d.Path == "k8s.io/api" {
			return "v1." + strings.TrimPrefix(d.Version, "v0.") + "+minik8s"
		}
	}
	return "v1.0.0+minik8s"
}

func majorMinor(v string) (string, string) {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return "", ""
	}
	return parts[0], parts[1]
}
