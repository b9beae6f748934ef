package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// Backend receives finished audit events.
type Backend interface {
	ProcessEvent(ev *auditv1.Event)
}

// LogConfig is --audit-log-path and its rotation settings.
type LogConfig struct {
	// Path is the log file; "-" writes to standard output.
	Path string
	// MaxSize is the size in megabytes at which the file is rotated (0: never).
	MaxSize int
	// MaxBackups is how many rotated files are kept (0: all, within MaxAge).
	MaxBackups int
	// MaxAge is how many days rotated files are kept (0: forever).
	MaxAge int
}

// Validate reports impossible settings.
func (c *LogConfig) Validate() error {
	if c.Path == "" {
		return errors.New("--audit-log-path must not be empty")
	}
	if c.MaxSize < 0 || c.MaxBackups < 0 || c.MaxAge < 0 {
		return errors.New("--audit-log-maxsize, --audit-log-maxbackup and --audit-log-maxage must not be negative")
	}
	return nil
}

// LogBackend writes each event as one line of JSON, blocking the request until
// the line is written, as upstream's log backend does by default.
type LogBackend struct {
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer
	err func(error)
}

// NewLogBackend opens the log; onError hears of failed writes.
func NewLogBackend(cfg LogConfig, onError func(error)) (*LogBackend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if onError == nil {
		onError = func(error) {}
	}
	if cfg.Path == "-" {
		return &LogBackend{w: os.Stdout, err: onError}, nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("create audit log folder: %w", err)
	}
	// Opened once here so that a path that cannot be written fails the start.
	f, err := os.OpenFile(cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	f.Close()
	lj := &lumberjack.Logger{Filename: cfg.Path, MaxSize: cfg.MaxSize, MaxBackups: cfg.MaxBackups, MaxAge: cfg.MaxAge}
	if cfg.MaxSize == 0 {
		// lumberjack reads 0 as its 100 MB default; upstream's 0 means never.
		lj.MaxSize = 1 << 30
	}
	return &LogBackend{w: lj, c: lj, err: onError}, nil
}

// ProcessEvent writes one line.
func (b *LogBackend) ProcessEvent(ev *auditv1.Event) {
	ev.APIVersion = auditv1.SchemeGroupVersion.String()
	ev.Kind = "Event"
	line, err := json.Marshal(ev)
	if err != nil {
		b.err(fmt.Errorf("encode audit event: %w", err))
		return
	}
	line = append(line, '\n')
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.w.Write(line); err != nil {
		b.err(fmt.Errorf("write audit event: %w", err))
	}
}

// Close closes the file.
func (b *LogBackend) Close() error {
	if b.c == nil {
		return nil
	}
	return b.c.Close()
}
