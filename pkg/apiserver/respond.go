package apiserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// gzipThreshold: responses at least this big are compressed for clients that accept
// gzip, as upstream does.
const gzipThreshold = 128 * 1024

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeObject encodes obj in the negotiated form.
func writeObject(w http.ResponseWriter, r *http.Request, code int, out output, obj runtime.Object) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() < 4<<20 {
			bufPool.Put(buf)
		}
	}()
	if err := out.encoder().Encode(obj, buf); err != nil {
		writeError(w, r, fmt.Errorf("encode %T: %w", obj, err))
		return
	}
	writeBytes(w, r, code, out.contentType(), buf.Bytes())
}

func writeBytes(w http.ResponseWriter, r *http.Request, code int, contentType string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache, private")
	if len(data) >= gzipThreshold && acceptsGzip(r) && !fromLoopback(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		w.WriteHeader(code)
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		_, _ = zw.Write(data)
		_ = zw.Close()
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// fromLoopback reports a client on this machine, for whom compressing costs CPU on
// both ends and saves nothing.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func acceptsGzip(r *http.Request) bool {
	for _, enc := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(enc, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

// toStatus turns any error into the Status the API returns.
func toStatus(err error) *metav1.Status {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		st := se.Status()
		if st.Code == 0 {
			st.Code = http.StatusInternalServerError
		}
		st.Status = metav1.StatusFailure
		st.Kind = "Status"
		st.APIVersion = "v1"
		return &st
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		st := apierrors.NewTimeoutError(err.Error(), 1).ErrStatus
		st.Kind, st.APIVersion = "Status", "v1"
		return &st
	}
	st := apierrors.NewInternalError(err).ErrStatus
	st.Kind, st.APIVersion = "Status", "v1"
	return &st
}

// writeError answers with a Status in the client's format (JSON unless it asked for
// YAML or protobuf).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := toStatus(err)
	out, nerr := negotiate(r)
	if nerr != nil || out.target != "" {
		info, _ := serializerFor(mediaJSON)
		out = output{info: info, mediaType: mediaJSON}
	}
	out.target = ""
	buf := &bytes.Buffer{}
	if eerr := out.encoder().Encode(st, buf); eerr != nil {
		http.Error(w, st.Message, int(st.Code))
		return
	}
	writeBytes(w, r, int(st.Code), out.contentType(), buf.Bytes())
}

// statusError builds an API error with a code and reason of our choosing.
func statusError(code int, reason metav1.StatusReason, msg string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg,
	}}
}

// notFoundPath is the answer for an unknown URL.
func notFoundPath(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, errNotServed())
}

// errNotServed is upstream's answer for a path under a served group version
// that no route takes: an unknown resource or subresource, a namespaced
// resource named outside a namespace.
func errNotServed() error {
	return apierrors.NewGenericServerResponse(http.StatusNotFound, "", schema.GroupResource{}, "", "", 0, false)
}

// methodNotSupported answers a verb the resource (or subresource) does not
// offer, as upstream's router does, naming neither.
func methodNotSupported(schema.GroupResource, string) error {
	return apierrors.NewGenericServerResponse(http.StatusMethodNotAllowed, "", schema.GroupResource{}, "", "", 0, false)
}

// writeStatusOK answers a successful deletion the way upstream does.
func successStatus(name, kind string, uid string) *metav1.Status {
	st := &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Name: name, Kind: kind},
	}
	if uid != "" {
		st.Details.UID = typesUID(uid)
	}
	return st
}
