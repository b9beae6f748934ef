package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// server is the state the HTTP endpoints read and flip.
type server struct {
	ready    atomic.Bool
	healthy  atomic.Bool
	out      io.Writer      // where /log and the access log go (stdout: kubectl logs)
	exit     func(code int) // os.Exit, replaced in tests
	hostname func() (string, error)

	mu   sync.Mutex
	held [][]byte // memory /alloc holds on to
}

func newServer(out io.Writer, exit func(int)) *server {
	s := &server{out: out, exit: exit, hostname: os.Hostname}
	s.ready.Store(true)
	s.healthy.Store(true)
	return s
}

// handler routes the endpoints; every request is logged, so tests can read it
// back with kubectl logs.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.serveHostname)
	mux.HandleFunc("/hostname", s.serveHostname)
	mux.HandleFunc("/echo", s.serveEcho)
	mux.HandleFunc("/healthz", s.serveHealthz)
	mux.HandleFunc("/readyz", s.serveReadyz)
	mux.HandleFunc("/health", s.serveFlip(&s.healthy))
	mux.HandleFunc("/ready", s.serveFlip(&s.ready))
	mux.HandleFunc("/exit", s.serveExit)
	mux.HandleFunc("/burn", s.serveBurn)
	mux.HandleFunc("/alloc", s.serveAlloc)
	mux.HandleFunc("/free", s.serveFree)
	mux.HandleFunc("/env", s.serveEnv)
	mux.HandleFunc("/headers", s.serveHeaders)
	mux.HandleFunc("/clientip", s.serveClientIP)
	mux.HandleFunc("/log", s.serveLog)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(s.out, "%s %s %s from %s\n", time.Now().UTC().Format(time.RFC3339), r.Method, r.URL.RequestURI(), r.RemoteAddr)
		mux.ServeHTTP(w, r)
	})
}

func (s *server) serveHostname(w http.ResponseWriter, r *http.Request) {
	name, err := s.hostname()
	if err != nil {
		http.Error(w, "hostname: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, name)
}

func (s *server) serveEcho(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.URL.Query().Get("msg"))
}

func (s *server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	if !s.healthy.Load() {
		http.Error(w, "unhealthy", http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// serveFlip sets a flag from ?state=true|false and reports it.
func (s *server) serveFlip(flag *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("state"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				http.Error(w, "state must be true or false", http.StatusBadRequest)
				return
			}
			flag.Store(b)
		}
		fmt.Fprintln(w, flag.Load())
	}
}

func (s *server) serveExit(w http.ResponseWriter, r *http.Request) {
	code, err := intParam(r, "code", 0, 0, 255)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "exiting with %d\n", code)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// Exit after the response has left, so the caller sees it.
	go func() {
		time.Sleep(100 * time.Millisecond)
		s.exit(code)
	}()
}

// serveBurn keeps ?cpu= cores busy for ?seconds= in the background and answers at
// once, so an autoscaler test can start load with one request.
func (s *server) serveBurn(w http.ResponseWriter, r *http.Request) {
	cpus, err := intParam(r, "cpu", 1, 1, 64)
	if err == nil {
		var secs int
		secs, err = intParam(r, "seconds", 10, 1, 3600)
		if err == nil {
			until := time.Now().Add(time.Duration(secs) * time.Second)
			for range cpus {
				go spin(until)
			}
			fmt.Fprintf(w, "burning %d cpu for %d seconds\n", cpus, secs)
			return
		}
	}
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func spin(until time.Time) {
	for x := uint64(1); time.Now().Before(until); {
		for range 100000 {
			x = x*6364136223846793005 + 1
		}
	}
}

// serveAlloc allocates ?mb= MiB more and holds it until /free, touching every
// page so the memory is resident and counts against the container's limit.
func (s *server) serveAlloc(w http.ResponseWriter, r *http.Request) {
	mb, err := intParam(r, "mb", 1, 1, 1<<16)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b := make([]byte, mb<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	s.mu.Lock()
	s.held = append(s.held, b)
	total := s.heldMiB()
	s.mu.Unlock()
	fmt.Fprintf(w, "holding %d MiB\n", total)
}

func (s *server) serveFree(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.held = nil
	s.mu.Unlock()
	fmt.Fprintln(w, "holding 0 MiB")
}

func (s *server) heldMiB() int {
	n := 0
	for _, b := range s.held {
		n += len(b) >> 20
	}
	return n
}

// serveEnv prints every variable, also those whose names are not shell
// identifiers ("data-1"), which a shell's env would drop.
func (s *server) serveEnv(w http.ResponseWriter, r *http.Request) {
	writeEnv(w)
}

func writeEnv(w io.Writer) {
	env := os.Environ()
	sort.Strings(env)
	for _, e := range env {
		fmt.Fprintln(w, e)
	}
}

func (s *server) serveHeaders(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%s %s %s\n", r.Method, r.URL.RequestURI(), r.Proto)
	fmt.Fprintf(w, "Host: %s\n", r.Host)
	names := make([]string, 0, len(r.Header))
	for n := range r.Header {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, v := range r.Header[n] {
			fmt.Fprintf(w, "%s: %s\n", n, v)
		}
	}
}

// serveClientIP prints the address the request came from, for tests of source
// IP preservation and session affinity.
func (s *server) serveClientIP(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	fmt.Fprintln(w, host)
}

func (s *server) serveLog(w http.ResponseWriter, r *http.Request) {
	msg := r.URL.Query().Get("msg")
	fmt.Fprintln(s.out, msg)
	fmt.Fprintln(w, "logged")
}

// intParam reads an integer query parameter within [lo, hi], def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}
