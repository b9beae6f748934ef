package apiserver

import (
	"net/http"
	"net/http/pprof"
	"strings"
)

// serveProfiling answers /debug/pprof/ as upstream's --profiling does, for
// authenticated callers (the authorizer already ran).
func serveProfiling(w http.ResponseWriter, r *http.Request) {
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	case "":
		pprof.Index(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}
