package openapi

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/munnerz/goautoneg"
)

// Media types of the documents. kubectl asks for the v2 document as protobuf
// under the older "@" name; the answer uses the newer one, as upstream's does.
const (
	mediaJSON           = "application/json"
	mediaV2Proto        = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	mediaV2ProtoOldName = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	mediaV3Proto        = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
	mediaV3ProtoOldName = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
)

// format is a media type a client may ask for and the type the answer carries.
type format struct{ accept, contentType string }

var (
	v2Formats = []format{{mediaJSON, mediaJSON}, {mediaV2ProtoOldName, mediaV2Proto}, {mediaV2Proto, mediaV2Proto}}
	v3Formats = []format{{mediaJSON, mediaJSON}, {mediaV3Proto, mediaV3Proto}, {mediaV3ProtoOldName, mediaV3Proto}}
)

// ServeHTTP answers /openapi/v2, /openapi/v3 and /openapi/v3/<group version>.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/openapi/v2":
		s.serveV2(w, r)
	case p == "/openapi/v3" || p == "/openapi/v3/":
		s.serveV3Index(w, r)
	case strings.HasPrefix(p, "/openapi/v3/"):
		s.serveV3(w, r, strings.TrimPrefix(p, "/openapi/v3/"))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (s *Service) serveV2(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	f, ok := negotiate(r, v2Formats)
	if !ok {
		w.WriteHeader(http.StatusNotAcceptable)
		return
	}
	d, err := s.current()
	if err != nil {
		s.fail(w, err)
		return
	}
	b := d.v2
	if f.contentType == mediaV2Proto {
		if b, err = s.v2Proto(d); err != nil {
			s.fail(w, err)
			return
		}
	}
	serveBlob(w, r, b, f.contentType, d.modified)
}

func (s *Service) serveV3Index(w http.ResponseWriter, r *http.Request) {
	d, err := s.current()
	if err != nil {
		s.fail(w, err)
		return
	}
	serveBlob(w, r, d.v3index, mediaJSON, d.modified)
}

// serveV3 answers one group version's document. With the ?hash= the index
// gives, the answer may be cached for good; a stale hash is redirected to the
// current one.
func (s *Service) serveV3(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Add("Vary", "Accept")
	d, err := s.current()
	if err != nil {
		s.fail(w, err)
		return
	}
	b, found := d.v3[name]
	if !found {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f, ok := negotiate(r, v3Formats)
	if !ok {
		w.WriteHeader(http.StatusNotAcceptable)
		return
	}
	if f.contentType == mediaV3Proto {
		if b, err = s.v3Proto(d, name); err != nil {
			s.fail(w, err)
			return
		}
	}
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != b.etag {
			http.Redirect(w, r, v3URL(name, b.etag), http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	}
	serveBlob(w, r, b, f.contentType, d.modified)
}

func (s *Service) fail(w http.ResponseWriter, err error) {
	s.cfg.Logger.Error("OpenAPI documents unavailable", "err", err)
	http.Error(w, "OpenAPI documents unavailable", http.StatusServiceUnavailable)
}

// negotiate picks the first offered format the Accept header allows, by quality.
func negotiate(r *http.Request, offered []format) (format, bool) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = "*/*"
	}
	for _, clause := range goautoneg.ParseAccept(accept) {
		for _, f := range offered {
			typ, sub, _ := strings.Cut(f.accept, "/")
			if (clause.Type == typ || clause.Type == "*") && (clause.SubType == sub || clause.SubType == "*") {
				return f, true
			}
		}
	}
	return format{}, false
}

// serveBlob writes a document with its ETag, answering 304 to a matching
// If-None-Match, compressed when the client takes gzip.
func serveBlob(w http.ResponseWriter, r *http.Request, b *blob, contentType string, modified time.Time) {
	h := w.Header()
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache, private")
	}
	h.Set("Etag", strconv.Quote(b.etag))
	h.Set("Last-Modified", modified.Format(http.TimeFormat))
	h.Add("Vary", "Accept-Encoding")
	if notModified(r, b.etag, modified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(b.gz)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(b.gz)
		}
		return
	}
	h.Set("Content-Length", strconv.Itoa(b.size))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if body, err := b.open(); err == nil {
		io.Copy(w, body)
	}
}

// notModified evaluates If-None-Match, or If-Modified-Since without it.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || strings.Trim(t, `"`) == etag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, enc := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(enc), ";")
		if strings.TrimSpace(name) == "gzip" && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
