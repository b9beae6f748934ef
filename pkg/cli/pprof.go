package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// addProfileFlag adds the hidden --profile-port of the components that run
// alone (proxy, dns): Go's profiles on 127.0.0.1:PORT/debug/pprof, for
// finding where their time goes under a benchmark.
func addProfileFlag(f *pflag.FlagSet, port *int) {
	f.IntVar(port, "profile-port", 0, "serve Go profiles on 127.0.0.1:PORT/debug/pprof (0: off)")
	_ = f.MarkHidden("profile-port")
}

// serveProfiles serves the profiles until ctx ends; port 0 serves none.
func serveProfiles(ctx context.Context, port int) {
	if port <= 0 {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "profiles:", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
}
