package apiserver

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/minik8s/minik8s/pkg/storage"
)

// initialEventsEndAnnotation marks the bookmark after a watch's initial events.
const initialEventsEndAnnotation = "k8s.io/initial-events-end"

// watch streams changes of a collection (or of one object by fieldSelector).
func (q *request) watch() error {
	p, err := q.listParams()
	if err != nil {
		return err
	}
	if q.info.Name != "" {
		p.name = q.info.Name
		p.pred.Field = fields.AndSelectors(p.pred.Field, fields.OneTermEqualSelector("metadata.name", q.info.Name))
	}
	send := p.sendInitialEvents != nil && *p.sendInitialEvents
	if p.sendInitialEvents != nil {
		var errs field.ErrorList
		if p.rvMatch != string(metav1.ResourceVersionMatchNotOlderThan) {
			errs = append(errs, field.Forbidden(field.NewPath("resourceVersionMatch"), "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
		}
		if send && !p.bookmarks {
			errs = append(errs, field.Forbidden(field.NewPath("allowWatchBookmarks"), "sendInitialEvents requires setting allowWatchBookmarks to true"))
		}
		if len(errs) > 0 {
			return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", errs)
		}
	}
	out, err := negotiateFor(q.r, isCustom(q.res), targetTable, targetPartial)
	if err != nil {
		return err
	}
	ctx := q.ctx()
	timeout := time.Duration(p.timeoutSeconds) * time.Second
	if timeout == 0 {
		timeout = time.Duration(1800*(1+rand.Float64())) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	wo := storage.WatchOptions{Namespace: q.info.Namespace, Bookmarks: p.bookmarks, Predicate: p.pred, SendInitialEvents: send}
	switch p.rv {
	case "", "0":
		if p.rv == "" {
			if err := q.res.Store.WaitFresh(ctx, storage.ReadOptions{}); err != nil {
				return err
			}
		}
		if p.sendInitialEvents != nil && !send {
			// sendInitialEvents=false with no resourceVersion: start from now.
			wo.ResourceVersion = q.res.Store.CurrentRevision()
		}
	default:
		rv, _ := storage.ParseResourceVersion(p.rv)
		wo.ResourceVersion = rv
	}
	w, err := q.res.Store.Watch(ctx, wo)
	if err != nil {
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			// Upstream reports a too-old resourceVersion inside the watch stream.
			return q.streamError(out, err)
		}
		return err
	}
	defer w.Stop()
	return q.stream(ctx, out, w)
}

// stream writes watch events until the watch or the request ends.
func (q *request) stream(ctx context.Context, out output, w *storage.Watcher) error {
	enc := newEventEncoder(q, out)
	q.w.Header().Set("Content-Type", enc.contentType())
	q.w.Header().Set("Cache-Control", "no-cache, private")
	q.w.Header().Set("X-Content-Type-Options", "nosniff")
	q.w.WriteHeader(http.StatusOK)
	flusher, _ := q.w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		events, ok := w.Next(ctx)
		if !ok {
			return nil
		}
		for _, e := range events {
			if err := enc.write(e); err != nil {
				return nil
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// streamError answers a watch with a single ERROR event.
func (q *request) streamError(out output, err error) error {
	enc := newEventEncoder(q, out)
	q.w.Header().Set("Content-Type", enc.contentType())
	q.w.WriteHeader(http.StatusOK)
	st := toStatus(err)
	return enc.writeObject(watch.Error, st)
}

// eventEncoder frames watch events in the negotiated encoding, encoding each shared
// event once for all watchers that use the same form.
type eventEncoder struct {
	q           *request
	out         output
	frame       func(*metav1.WatchEvent) error
	cacheKey    string
	sentColumns bool
}

func newEventEncoder(q *request, out output) *eventEncoder {
	e := &eventEncoder{q: q, out: out, cacheKey: out.mediaType + "|" + out.target + "|" + q.res.GroupVersion().String()}
	ss := out.info.StreamSerializer
	fw := ss.Framer.NewFrameWriter(q.w)
	e.frame = func(ev *metav1.WatchEvent) error { return ss.Serializer.Encode(ev, fw) }
	return e
}

func (e *eventEncoder) contentType() string {
	if e.out.mediaType == mediaProtobuf {
		return mediaProtobuf + ";stream=watch"
	}
	return e.out.mediaType
}

func (e *eventEncoder) write(ev *storage.Event) error {
	if ev.Type == watch.Bookmark {
		obj := e.q.res.New()
		obj.GetObjectKind().SetGroupVersionKind(e.q.res.GroupVersionKind())
		m := obj.(metav1.Object)
		m.SetResourceVersion(strconv.FormatInt(ev.Rev, 10))
		if ev.InitialEventsEnd {
			m.SetAnnotations(map[string]string{initialEventsEndAnnotation: "true"})
		}
		if e.out.target == targetPartial {
			// A metadata-only client can decode nothing else.
			return e.writeObject(watch.Bookmark, partialObjectMetadata(obj))
		}
		return e.writeObject(watch.Bookmark, obj)
	}
	if e.out.target == targetTable {
		// Tables carry their columns in the first event only, as upstream sends them.
		obj, err := toServed(e.q.res, ev.Object)
		if err != nil {
			return err
		}
		t, err := e.q.s.table(e.q, []runtime.Object{obj}, !e.sentColumns)
		if err != nil {
			return err
		}
		e.sentColumns = true
		return e.writeObject(ev.Type, t)
	}
	// The framed event is encoded once and shared by every watcher that sees this
	// event in this form; each then only copies bytes to its stream.
	if cached, ok := ev.Encoded.Load(e.cacheKey); ok {
		_, err := e.q.w.Write(cached.([]byte))
		return err
	}
	obj, err := toServed(e.q.res, ev.Object)
	if err != nil {
		return err
	}
	if e.out.target == targetPartial {
		obj = partialObjectMetadata(obj)
	}
	var buf bytes.Buffer
	if err := e.out.info.Serializer.Encode(obj, &buf); err != nil {
		return err
	}
	var framed bytes.Buffer
	ss := e.out.info.StreamSerializer
	if err := ss.Serializer.Encode(&metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: buf.Bytes()}},
		ss.Framer.NewFrameWriter(&framed)); err != nil {
		return err
	}
	ev.Encoded.Store(e.cacheKey, framed.Bytes())
	_, err = e.q.w.Write(framed.Bytes())
	return err
}

func (e *eventEncoder) writeObject(t watch.EventType, obj runtime.Object) error {
	var buf bytes.Buffer
	if err := e.out.info.Serializer.Encode(obj, &buf); err != nil {
		return err
	}
	return e.frame(&metav1.WatchEvent{Type: string(t), Object: runtime.RawExtension{Raw: buf.Bytes()}})
}
