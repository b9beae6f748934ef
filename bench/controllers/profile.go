package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"k8s.io/client-go/kubernetes"
)

// profiler saves CPU profiles of the API server (through /debug/pprof, both
// targets serve it) and of minik8s's controller manager (its --pprof-port)
// while a step runs, and the controller manager's heap after the scale-up.
type profiler struct {
	dir  string
	port int
}

// cpu starts the profiles of one step; the returned function ends them when the
// step is done (profiles are asked for 60 s and cut short by cancelling).
func (p profiler) cpu(ctx context.Context, t *target, cs kubernetes.Interface, step string) func() {
	if p.dir == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The API server answers when the profile is done: 15 s covers a scale-up.
		data, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", "15").DoRaw(ctx)
		p.save(fmt.Sprintf("%s-apiserver-%s.pprof", t.name, step), data, err)
	}()
	if t.name == "minik8s" && p.port > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := get(ctx, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=15", p.port))
			p.save(fmt.Sprintf("%s-controllers-%s.pprof", t.name, step), data, err)
		}()
	}
	return func() { wg.Wait(); cancel() }
}

func (p profiler) heap(t *target, when string) {
	if p.dir == "" || t.name != "minik8s" || p.port == 0 {
		return
	}
	data, err := get(context.Background(), "http://127.0.0.1:"+strconv.Itoa(p.port)+"/debug/pprof/heap")
	p.save(fmt.Sprintf("%s-controllers-heap-%s.pprof", t.name, when), data, err)
	// The text form ends with the runtime's memory statistics.
	data, err = get(context.Background(), "http://127.0.0.1:"+strconv.Itoa(p.port)+"/debug/pprof/heap?debug=1")
	p.save(fmt.Sprintf("%s-controllers-heap-%s.txt", t.name, when), data, err)
}

func (p profiler) save(name string, data []byte, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(p.dir, name), data, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
	}
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
