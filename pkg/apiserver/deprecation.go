package apiserver

import (
	"fmt"
	"net/http"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/version"
)

// The lifecycle methods k8s.io/api generates for types that are deprecated or
// removed in some release.
type (
	deprecated  interface{ APILifecycleDeprecated() (int, int) }
	removed     interface{ APILifecycleRemoved() (int, int) }
	replacement interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
)

var deprecationCache sync.Map // *registry.Resource → string ("" when current)

// deprecationWarning is upstream's warning for requests to a deprecated API
// version ("v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1
// EndpointSlice"), or "" when the version is current; a custom resource's comes
// from its CRD.
func deprecationWarning(res *registry.Resource) string {
	if res.Custom {
		return res.DeprecationWarning
	}
	if v, ok := deprecationCache.Load(res); ok {
		return v.(string)
	}
	msg := ""
	if res.New != nil {
		obj := res.New()
		if d, ok := obj.(deprecated); ok {
			major, minor := d.APILifecycleDeprecated()
			if major > 0 && atOrAfter(major, minor) {
				gv := res.GroupVersion().String()
				msg = fmt.Sprintf("%s %s is deprecated in v%d.%d+", gv, res.Kind, major, minor)
				if r, ok := obj.(removed); ok {
					if rmaj, rmin := r.APILifecycleRemoved(); rmaj > 0 {
						msg += fmt.Sprintf(", unavailable in v%d.%d+", rmaj, rmin)
					}
				}
				if r, ok := obj.(replacement); ok {
					if gvk := r.APILifecycleReplacement(); gvk.Kind != "" {
						msg += fmt.Sprintf("; use %s %s", gvk.GroupVersion().String(), gvk.Kind)
					}
				}
			}
		}
	}
	deprecationCache.Store(res, msg)
	return msg
}

// atOrAfter reports whether the served Kubernetes version has reached major.minor.
func atOrAfter(major, minor int) bool {
	var curMajor, curMinor int
	if _, err := fmt.Sscanf(version.Get().GitVersion, "v%d.%d", &curMajor, &curMinor); err != nil {
		return true
	}
	return curMajor > major || (curMajor == major && curMinor >= minor)
}

// warnDeprecated adds the deprecation warning header for res, if any.
func warnDeprecated(w http.ResponseWriter, res *registry.Resource) {
	if msg := deprecationWarning(res); msg != "" {
		w.Header().Add("Warning", fmt.Sprintf("299 - %q", msg))
	}
}
