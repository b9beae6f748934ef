package storage

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// leaseReuse is how long one etcd lease is shared by objects with a TTL (events), so
// a burst of events costs one lease instead of thousands.
const leaseReuse = time.Minute

type leaseManager struct {
	client *clientv3.Client
	mu     sync.Mutex
	id     clientv3.LeaseID
	expiry time.Time // when the current lease's TTL runs out
	until  time.Time // when it stops being handed out
}

func newLeaseManager(c *clientv3.Client) *leaseManager { return &leaseManager{client: c} }

// lease returns a lease that lives at least ttl seconds.
func (l *leaseManager) lease(ctx context.Context, ttl int64) (clientv3.LeaseID, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	need := now.Add(time.Duration(ttl) * time.Second)
	if l.id != 0 && now.Before(l.until) && !l.expiry.Before(need) {
		return l.id, nil
	}
	grant := ttl + int64(leaseReuse/time.Second)
	resp, err := l.client.Grant(ctx, grant)
	if err != nil {
		return 0, fmt.Errorf("grant etcd lease: %w", err)
	}
	l.id = resp.ID
	l.expiry = now.Add(time.Duration(grant) * time.Second)
	l.until = now.Add(leaseReuse)
	return l.id, nil
}
