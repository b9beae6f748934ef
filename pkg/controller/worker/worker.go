// Package worker runs a controller's queue the way every controller here does:
// wait for the informers, then sync one key at a time, retrying failures with the
// queue's rate limit, until the context ends.
package worker

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Run works until ctx ends and then shuts the queue down. onError, if not nil,
// hears of each failed sync before the key is retried.
func Run(ctx context.Context, name string, queue workqueue.TypedRateLimitingInterface[string], synced []cache.InformerSynced,
	sync func(ctx context.Context, key string) error, onError func(key string, err error)) error {
	return RunN(ctx, name, 1, queue, synced, sync, onError)
}

// RunN is Run with n workers syncing different keys at once (the queue never hands
// one key to two workers).
func RunN(ctx context.Context, name string, n int, queue workqueue.TypedRateLimitingInterface[string], synced []cache.InformerSynced,
	sync func(ctx context.Context, key string) error, onError func(key string, err error)) error {
	defer queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("%s: caches did not sync", name)
	}
	for i := 0; i < max(n, 1); i++ {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for next(ctx, queue, sync, onError) {
			}
		}, time.Second)
	}
	<-ctx.Done()
	return nil
}

func next(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string],
	sync func(ctx context.Context, key string) error, onError func(key string, err error)) bool {
	key, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(key)
	if err := sync(ctx, key); err != nil {
		if onError != nil {
			onError(key, err)
		}
		queue.AddRateLimited(key)
		return true
	}
	queue.Forget(key)
	return true
}
