package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"
)

// LogOptions are the container log query parameters the kubelet API takes, the
// same names as core/v1 PodLogOptions.
type LogOptions struct {
	Follow     bool
	Previous   bool
	Timestamps bool
	// TailLines, when set, starts that many lines before the end.
	TailLines *int64
	// LimitBytes, when set, stops after that many bytes of output.
	LimitBytes *int64
	// Since drops entries written before it (sinceSeconds or sinceTime).
	Since time.Time
	// Stream is "", "All", "Stdout" or "Stderr".
	Stream string
}

// errInvalidLogOptions marks a request whose parameters parse but make no sense
// (upstream answers those 422, unparsable ones 400).
var errInvalidLogOptions = errors.New("invalid log options")

// ParseLogOptions reads the query of a /containerLogs request.
func ParseLogOptions(q url.Values, now time.Time) (LogOptions, error) {
	var o LogOptions
	var err error
	boolean := func(name string) bool {
		if err != nil {
			return false
		}
		v := q.Get(name)
		if v == "" {
			// "?follow" alone is true, as the API server's parameter decoding has it.
			return q.Has(name)
		}
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			err = fmt.Errorf("parameter %s=%q is not a boolean", name, v)
		}
		return b
	}
	integer := func(name string) *int64 {
		v := q.Get(name)
		if v == "" || err != nil {
			return nil
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			err = fmt.Errorf("parameter %s=%q is not an integer", name, v)
			return nil
		}
		return &n
	}
	o.Follow = boolean("follow")
	o.Previous = boolean("previous")
	o.Timestamps = boolean("timestamps")
	// "tail" is the kubelet's older name for tailLines; "all" means no limit.
	if t := q.Get("tail"); t != "" && q.Get("tailLines") == "" && t != "all" {
		q = cloneValues(q)
		q.Set("tailLines", t)
	}
	o.TailLines = integer("tailLines")
	o.LimitBytes = integer("limitBytes")
	sinceSeconds := integer("sinceSeconds")
	o.Stream = q.Get("stream")
	if err != nil {
		return o, err
	}
	sinceTime := q.Get("sinceTime")
	switch {
	case sinceSeconds != nil && sinceTime != "":
		return o, fmt.Errorf("%w: at most one of sinceTime or sinceSeconds may be specified", errInvalidLogOptions)
	case sinceSeconds != nil:
		if *sinceSeconds < 1 {
			return o, fmt.Errorf("%w: sinceSeconds must be greater than 0", errInvalidLogOptions)
		}
		o.Since = now.Add(-time.Duration(*sinceSeconds) * time.Second)
	case sinceTime != "":
		t, perr := time.Parse(time.RFC3339, sinceTime)
		if perr != nil {
			return o, fmt.Errorf("parameter sinceTime=%q is not an RFC 3339 time", sinceTime)
		}
		o.Since = t
	}
	if o.TailLines != nil && *o.TailLines < 0 {
		return o, fmt.Errorf("%w: tailLines must be greater than or equal to 0", errInvalidLogOptions)
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		return o, fmt.Errorf("%w: limitBytes must be greater than 0", errInvalidLogOptions)
	}
	switch o.Stream {
	case "", "All", "Stdout", "Stderr":
	default:
		return o, fmt.Errorf("%w: stream %q is not one of All, Stdout, Stderr", errInvalidLogOptions, o.Stream)
	}
	if o.Stream != "" && o.Stream != "All" && o.TailLines != nil {
		return o, fmt.Errorf("%w: tailLines and specific stream are mutually exclusive for now", errInvalidLogOptions)
	}
	return o, nil
}

func cloneValues(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}

// logEntry is one line of a CRI log file: "<RFC3339Nano time> <stream> <tag> <message>",
// tag F for a full line and P for a part of a longer one.
type logEntry struct {
	time    time.Time
	stream  string
	partial bool
	msg     []byte
}

// parseCRILine splits one line (without its newline).
func parseCRILine(line []byte) (logEntry, error) {
	var e logEntry
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return e, fmt.Errorf("log line %q has no timestamp", truncate(line))
	}
	t, err := time.Parse(time.RFC3339Nano, string(line[:sp]))
	if err != nil {
		return e, fmt.Errorf("log line %q: %w", truncate(line), err)
	}
	e.time = t
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return e, fmt.Errorf("log line %q has no stream", truncate(line))
	}
	e.stream = string(rest[:sp])
	if e.stream != "stdout" && e.stream != "stderr" {
		return e, fmt.Errorf("log line %q: unknown stream %q", truncate(line), e.stream)
	}
	rest = rest[sp+1:]
	// The tag may be missing from an empty full line written without its trailing space.
	sp = bytes.IndexByte(rest, ' ')
	tag := rest
	if sp >= 0 {
		tag, rest = rest[:sp], rest[sp+1:]
	} else {
		rest = nil
	}
	// Tags are colon-separated; the first says whether the line is complete.
	if i := bytes.IndexByte(tag, ':'); i >= 0 {
		tag = tag[:i]
	}
	switch string(tag) {
	case "F":
	case "P":
		e.partial = true
	default:
		return e, fmt.Errorf("log line %q: unknown tag %q", truncate(line), tag)
	}
	e.msg = rest
	return e, nil
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// errLimitReached ends a read once limitBytes have been written.
var errLimitReached = errors.New("log byte limit reached")

// logWriter turns CRI entries into what the client reads.
type logWriter struct {
	opts    LogOptions
	w       io.Writer
	left    int64 // bytes still allowed, when limited
	partial map[string]bool
	buf     []byte
}

func newLogWriter(w io.Writer, opts LogOptions) *logWriter {
	lw := &logWriter{opts: opts, w: w, left: -1, partial: map[string]bool{}}
	if opts.LimitBytes != nil {
		lw.left = *opts.LimitBytes
	}
	return lw
}

func (lw *logWriter) write(e logEntry) error {
	if !lw.opts.Since.IsZero() && e.time.Before(lw.opts.Since) {
		return nil
	}
	switch lw.opts.Stream {
	case "Stdout":
		if e.stream != "stdout" {
			return nil
		}
	case "Stderr":
		if e.stream != "stderr" {
			return nil
		}
	}
	out := lw.buf[:0]
	// A line continued from a partial entry carries one timestamp, at its start.
	if lw.opts.Timestamps && !lw.partial[e.stream] {
		out = e.time.AppendFormat(out, "2006-01-02T15:04:05.000000000Z07:00")
		out = append(out, ' ')
	}
	out = append(out, e.msg...)
	if !e.partial {
		out = append(out, '\n')
	}
	lw.partial[e.stream] = e.partial
	lw.buf = out
	if lw.left >= 0 && int64(len(out)) >= lw.left {
		_, err := lw.w.Write(out[:lw.left])
		lw.left = 0
		if err != nil {
			return err
		}
		return errLimitReached
	}
	if lw.left >= 0 {
		lw.left -= int64(len(out))
	}
	_, err := lw.w.Write(out)
	return err
}

// tailOffset returns where the last n lines of f begin.
func tailOffset(f *os.File, n int64) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if n == 0 {
		return size, nil
	}
	const block = 8192
	buf := make([]byte, block)
	var count int64
	pos := size
	for pos > 0 {
		chunk := int64(block)
		if pos < chunk {
			chunk = pos
		}
		pos -= chunk
		if _, err := f.ReadAt(buf[:chunk], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := chunk - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == size-1 {
				// The file's final newline ends the last line; it starts none.
				continue
			}
			count++
			if count == n {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}

// followPoll is how often a followed log is checked for new lines, and
// followCheck how often, while nothing comes, whether its container still runs.
var (
	followPoll  = 100 * time.Millisecond
	followCheck = time.Second
)

// ReadLogs copies the CRI log file at path to w as opts ask. With Follow it keeps
// reading until ctx ends or running reports the container gone and the file is
// drained; flush is called whenever the reader has caught up (may be nil).
func ReadLogs(ctx context.Context, path string, opts LogOptions, w io.Writer, flush func(), running func() bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open log file %s: %w", path, err)
	}
	defer func() { f.Close() }()
	start := int64(0)
	if opts.TailLines != nil {
		if start, err = tailOffset(f, *opts.TailLines); err != nil {
			return fmt.Errorf("find the tail of %s: %w", path, err)
		}
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("seek in %s: %w", path, err)
	}
	lw := newLogWriter(w, opts)
	r := bufio.NewReaderSize(f, 64*1024)
	var pending []byte // an incomplete last line, waiting for its end
	lastCheck := time.Now()
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it whole.
			pending = append(pending, line...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if err == nil {
			if len(pending) > 0 {
				line = append(pending, line...)
				pending = pending[:0]
			}
			if e, perr := parseCRILine(bytes.TrimSuffix(line, []byte{'\n'})); perr == nil {
				if werr := lw.write(e); werr != nil {
					if errors.Is(werr, errLimitReached) {
						return nil
					}
					return werr
				}
			}
			continue
		}
		// At the end of what is written so far.
		pending = append(pending, line...)
		if !opts.Follow {
			if len(pending) > 0 {
				if e, perr := parseCRILine(pending); perr == nil {
					if werr := lw.write(e); werr != nil && !errors.Is(werr, errLimitReached) {
						return werr
					}
				}
			}
			return nil
		}
		if flush != nil {
			flush()
		}
		if time.Since(lastCheck) >= followCheck {
			lastCheck = time.Now()
			if replaced(f, path) {
				// Rotated: finish the old file (done: at its end), go on with the new one.
				nf, oerr := os.Open(path)
				if oerr == nil {
					f.Close()
					f = nf
					r.Reset(f)
					pending = pending[:0]
					continue
				}
			}
			if running != nil && !running() {
				// Gone: whatever it wrote last is in the file already; one more pass.
				opts.Follow = false
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followPoll):
		}
	}
}

// replaced reports whether path now names another file than f.
func replaced(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	return !os.SameFile(a, b)
}
