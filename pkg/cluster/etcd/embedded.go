// Package etcd starts the embedded etcd member or connects to an external cluster.
package etcd

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"
)

// Embedded is an etcd member running inside this process.
type Embedded struct {
	etcd   *embed.Etcd
	Client *clientv3.Client
}

// StartEmbedded starts a single-member etcd with its data under dir. Clients in this
// process reach it without a socket; the member listens only on unix sockets in dir.
func StartEmbedded(ctx context.Context, dir string) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create etcd dir: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "member-data")
	cfg.Name = "minik8s"
	client := unixURL(dir, "client.sock")
	peer := unixURL(dir, "peer.sock")
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	// A single member elects itself at once; short ticks make that a few milliseconds.
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.LogLevel = "fatal"
	cfg.MaxRequestBytes = 4 * 1024 * 1024
	cfg.QuotaBackendBytes = 8 * 1024 * 1024 * 1024
	// Keep memory low on small machines: fewer entries between snapshots.
	cfg.SnapshotCount = 10000
	for _, sock := range []string{"client.sock", "peer.sock"} {
		_ = os.Remove(filepath.Join(dir, sock))
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after 60s")
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	return &Embedded{etcd: e, Client: v3client.New(e.Server)}, nil
}

// Close stops the member after flushing its state.
func (e *Embedded) Close() {
	e.Client.Close()
	e.etcd.Close()
}

func unixURL(dir, name string) url.URL {
	u, _ := url.Parse("unix://" + filepath.Join(dir, name))
	return *u
}

// ConnectExternal dials an external etcd cluster given as comma-separated URLs.
func ConnectExternal(ctx context.Context, endpoints string, tlsConfig *tls.Config) (*clientv3.Client, error) {
	var eps []string
	for _, ep := range strings.Split(endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("no etcd endpoints in %q", endpoints)
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   eps,
		DialTimeout: 5 * time.Second,
		TLS:         tlsConfig,
		Logger:      zap.NewNop(),
		Context:     ctx,
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %s: %w", endpoints, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Status(sctx, eps[0]); err != nil {
		c.Close()
		return nil, fmt.Errorf("reach etcd %s: %w", eps[0], err)
	}
	return c, nil
}
