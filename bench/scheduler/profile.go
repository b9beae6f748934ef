package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profiler saves, for each run on minik8s, a CPU profile of the scheduler while
// the pods are placed and its heap once they are all bound (from the
// scheduler's --metrics-port).
type profiler struct {
	port int
	dir  string
}

// start begins the CPU profile of one run; the returned function, called once
// the run is measured, ends it and saves the heap.
func (p profiler) start(t *target, run string) func() {
	if p.port == 0 || p.dir == "" || t.name != "minik8s" {
		return func() {}
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", p.port)
	saved := make(chan struct{})
	go func() {
		defer close(saved)
		// Profiles are asked for 30 s; the run is usually shorter, and the
		// profile holds only what happened while it lasted plus idle time.
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		p.save(ctx, base+"profile?seconds=30", run+"-cpu.pprof")
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.save(ctx, base+"heap", run+"-heap.pprof")
		<-saved
	}
}

func (p profiler) save(ctx context.Context, url, name string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(filepath.Join(p.dir, name), data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
	}
}
