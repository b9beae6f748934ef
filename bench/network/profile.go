package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profiler saves CPU profiles of minik8s's proxy and DNS (their hidden
// --profile-port) while they are measured, when -profile-dir is set.
type profiler struct {
	dir     string
	port    int
	seconds int // length of a profile
}

func (p profiler) on() bool { return p.dir != "" }

// fetch saves a CPU profile of the next seconds from 127.0.0.1:port in the
// network namespace nsPath ("" for the bench's own), retrying the connection
// until the program listens. It runs in the background; done closes after.
func (p profiler) fetch(nsPath, name string, seconds int) (done <-chan struct{}) {
	d := make(chan struct{})
	go func() {
		defer close(d)
		if err := p.save(nsPath, name, fmt.Sprintf("profile?seconds=%d", seconds)); err != nil {
			fmt.Fprintf(os.Stderr, "  profile %s: %v\n", name, err)
		}
	}()
	return d
}

// heap saves the program's heap profile now.
func (p profiler) heap(nsPath, name string) {
	if err := p.save(nsPath, name, "heap"); err != nil {
		fmt.Fprintf(os.Stderr, "  profile %s: %v\n", name, err)
	}
}

func (p profiler) save(nsPath, name, query string) error {
	addr := fmt.Sprintf("127.0.0.1:%d", p.port)
	var conn net.Conn
	deadline := time.Now().Add(30 * time.Second)
	for conn == nil {
		// The socket is made on a thread in the namespace, so it connects there.
		dial := func() error {
			c, err := net.Dial("tcp", addr)
			conn = c
			return err
		}
		var err error
		if nsPath != "" {
			err = inNetNS(nsPath, dial)
		} else {
			err = dial()
		}
		if err != nil {
			if time.Now().After(deadline) {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	defer conn.Close()
	req := fmt.Sprintf("GET /debug/pprof/%s HTTP/1.0\r\nHost: %s\r\n\r\n", query, addr)
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	path := filepath.Join(p.dir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "  profile saved: %s\n", path)
	return f.Close()
}
