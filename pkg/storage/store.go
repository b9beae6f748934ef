package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/minik8s/minik8s/pkg/apis"
)

// Config configures a Store.
type Config struct {
	// Client reaches etcd; embedded or external.
	Client *clientv3.Client
	// Prefix is put in front of every key; "/registry" like upstream.
	Prefix string
	// SingleWriter is true when this process is the only writer of the etcd keyspace
	// (embedded etcd). A consistent read then waits for this process's last write
	// instead of asking etcd for its current revision.
	SingleWriter bool
	// CompactInterval is how often history older than one interval is compacted.
	// Zero disables compaction (for external etcd clusters that compact themselves).
	CompactInterval time.Duration
	// WatchHistory is how many events per resource are kept for watches that resume
	// from an older resourceVersion.
	WatchHistory int
	// Transformers picks each resource's encryption at rest; nil stores every
	// value as it is.
	Transformers TransformerFunc
	// Logger receives storage errors.
	Logger *slog.Logger
}

// Validate reports a missing or impossible setting.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("storage: no etcd client")
	}
	if c.Prefix == "" || !strings.HasPrefix(c.Prefix, "/") {
		return fmt.Errorf("storage: prefix %q must start with /", c.Prefix)
	}
	return nil
}

// Store is the etcd keyspace of one cluster with a cache per registered resource.
type Store struct {
	cfg    Config
	client *clientv3.Client
	codec  *protobuf.Serializer
	log    *slog.Logger

	mu        sync.RWMutex
	resources map[string]*Resource // by key prefix relative to cfg.Prefix, e.g. "services/specs"

	// progress is the revision up to which every event has been applied to the caches.
	progress revisionNotifier
	// written is the highest revision this process has written.
	written atomic.Int64

	watcher  clientv3.Watcher
	watchCtx context.Context
	leases   *leaseManager
	started  atomic.Bool
}

// New returns a store; register resources, then Start it.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.WatchHistory <= 0 {
		cfg.WatchHistory = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	s := &Store{
		cfg:       cfg,
		client:    cfg.Client,
		codec:     protobuf.NewSerializer(apis.Scheme, apis.Scheme),
		log:       cfg.Logger,
		resources: map[string]*Resource{},
	}
	s.progress.init()
	s.leases = newLeaseManager(cfg.Client)
	return s, nil
}

// Register adds a resource; it must be called before Start.
func (s *Store) Register(opts ResourceOptions) (*Resource, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if s.started.Load() {
		return nil, fmt.Errorf("storage: register %s after start", opts.GroupResource)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.resources[opts.KeyPrefix]; dup {
		return nil, fmt.Errorf("storage: key prefix %q registered twice", opts.KeyPrefix)
	}
	r := newResource(s, opts)
	s.resources[opts.KeyPrefix] = r
	return r, nil
}

// Start loads every registered resource into memory and follows etcd from there.
// It returns once the caches hold the state of the current revision; the watch runs
// until ctx ends.
func (s *Store) Start(ctx context.Context) error {
	s.started.Store(true)
	rev, err := s.loadAll(ctx)
	if err != nil {
		return err
	}
	for _, r := range s.resources {
		r.setStart(rev)
	}
	s.written.Store(rev)
	s.progress.advance(rev)
	s.watcher = s.client.Watcher
	s.watchCtx = clientv3.WithRequireLeader(ctx)
	go s.follow(ctx, rev)
	go s.bookmarkLoop(ctx)
	if s.cfg.CompactInterval > 0 {
		go s.compactLoop(ctx, s.cfg.CompactInterval)
	}
	return nil
}

// loadAll reads the whole keyspace at one revision, page by page.
func (s *Store) loadAll(ctx context.Context) (int64, error) {
	prefix := s.cfg.Prefix + "/"
	end := clientv3.GetPrefixRangeEnd(prefix)
	key := prefix
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(5000)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.client.Get(ctx, key, opts...)
		if err != nil {
			return 0, fmt.Errorf("load %s from etcd: %w", prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			r := s.resourceFor(string(kv.Key))
			if r == nil {
				continue
			}
			if err := r.load(string(kv.Key), kv.Value, kv.ModRevision); err != nil {
				s.log.Error("skipping undecodable object", "key", string(kv.Key), "err", err)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// resourceFor finds the resource owning key, trying one- and two-segment prefixes.
func (s *Store) resourceFor(key string) *Resource {
	rest, ok := strings.CutPrefix(key, s.cfg.Prefix+"/")
	if !ok {
		return nil
	}
	first, after, ok := strings.Cut(rest, "/")
	if !ok {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.resources[first]; r != nil {
		return r
	}
	second, _, ok := strings.Cut(after, "/")
	if !ok {
		return nil
	}
	return s.resources[first+"/"+second]
}

// follow applies etcd's events to the caches in revision order, restarting the watch
// (with a full reload) if etcd ends it.
func (s *Store) follow(ctx context.Context, rev int64) {
	prefix := s.cfg.Prefix + "/"
	for ctx.Err() == nil {
		wch := s.watcher.Watch(s.watchCtx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1),
			clientv3.WithProgressNotify())
		for resp := range wch {
			if err := resp.Err(); err != nil {
				s.log.Warn("etcd watch ended", "err", err)
				break
			}
			for _, ev := range resp.Events {
				r := s.resourceFor(string(ev.Kv.Key))
				if r != nil {
					r.apply(ev)
				}
				if ev.Kv.ModRevision > rev {
					rev = ev.Kv.ModRevision
				}
			}
			if resp.Header.Revision > rev && (len(resp.Events) == 0 || resp.IsProgressNotify()) {
				rev = resp.Header.Revision
			}
			s.progress.advance(rev)
		}
		if ctx.Err() != nil {
			return
		}
		// The watch broke (compaction while we lagged, or etcd restarted): reload.
		time.Sleep(100 * time.Millisecond)
		newRev, err := s.resync(ctx)
		if err != nil {
			s.log.Error("reload after watch failure", "err", err)
			continue
		}
		rev = newRev
		s.progress.advance(rev)
	}
}

// resync reloads every resource and turns the differences into events.
func (s *Store) resync(ctx context.Context) (int64, error) {
	prefix := s.cfg.Prefix + "/"
	resp, err := s.client.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("reload %s: %w", prefix, err)
	}
	seen := map[*Resource]map[string]bool{}
	for _, kv := range resp.Kvs {
		r := s.resourceFor(string(kv.Key))
		if r == nil {
			continue
		}
		if seen[r] == nil {
			seen[r] = map[string]bool{}
		}
		seen[r][string(kv.Key)] = true
		r.reconcile(string(kv.Key), kv.Value, kv.ModRevision)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.resources {
		r.dropMissing(seen[r], resp.Header.Revision)
	}
	return resp.Header.Revision, nil
}

// waitForRevision blocks until the caches reflect rev, or ctx ends.
func (s *Store) waitForRevision(ctx context.Context, rev int64) error {
	if s.progress.current() >= rev {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	asked := false
	for {
		cur, ch := s.progress.wait()
		if cur >= rev {
			return nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			// Nothing under our prefix changed; ask etcd to confirm its revision.
			if !asked && s.watcher != nil {
				asked = true
				_ = s.watcher.RequestProgress(s.watchCtx)
			}
		case <-ctx.Done():
			t.Stop()
			return errTooLargeResourceVersion(rev, cur)
		}
	}
}

// consistentRevision is the revision a "most recent" read must observe.
func (s *Store) consistentRevision(ctx context.Context) (int64, error) {
	if s.cfg.SingleWriter {
		return s.written.Load(), nil
	}
	resp, err := s.client.Get(ctx, s.cfg.Prefix+"/", clientv3.WithCountOnly(), clientv3.WithLimit(1))
	if err != nil {
		return 0, fmt.Errorf("read current revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// Healthy checks that etcd answers.
func (s *Store) Healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := s.client.Get(ctx, "health", clientv3.WithCountOnly(), clientv3.WithSerializable()); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	return nil
}

// CurrentRevision is the newest revision the caches reflect.
func (s *Store) CurrentRevision() int64 { return s.progress.current() }

func (s *Store) noteWrite(rev int64) {
	for {
		cur := s.written.Load()
		if rev <= cur || s.written.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// encode serializes obj for etcd; obj's kind must be set.
func (s *Store) encode(obj runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	if err := s.codec.Encode(obj, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// bookmarkLoop sends bookmarks to watchers that asked for them.
func (s *Store) bookmarkLoop(ctx context.Context) {
	t := time.NewTicker(bookmarkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.RLock()
			for _, r := range s.resources {
				r.sendBookmarks()
			}
			s.mu.RUnlock()
		}
	}
}

// bookmarkInterval is how often an idle watch learns the current resourceVersion.
var bookmarkInterval = 30 * time.Second

// compactLoop compacts history older than one interval, as the upstream API server does.
func (s *Store) compactLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if last > 0 {
				if _, err := s.client.Compact(ctx, last); err != nil && ctx.Err() == nil {
					s.log.Debug("compact", "rev", last, "err", err)
				}
			}
			last = s.progress.current()
		}
	}
}

// revisionNotifier publishes a monotonically growing revision.
type revisionNotifier struct {
	mu  sync.Mutex
	rev int64
	ch  chan struct{}
}

func (n *revisionNotifier) init() { n.ch = make(chan struct{}) }

func (n *revisionNotifier) advance(rev int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if rev <= n.rev {
		return
	}
	n.rev = rev
	close(n.ch)
	n.ch = make(chan struct{})
}

func (n *revisionNotifier) current() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rev
}

// wait returns the current revision and a channel closed when it next advances.
func (n *revisionNotifier) wait() (int64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rev, n.ch
}
