// Package nodeipam gives every Node a pod range (spec.podCIDR) out of the cluster's
// pod CIDR, as upstream's node IPAM controller does.
package nodeipam

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Controller allocates pod CIDRs to nodes.
type Controller struct {
	client  kubernetes.Interface
	lister  corelisters.NodeLister
	synced  cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	cluster *net.IPNet
	maskLen int
	log     *slog.Logger
	mu      sync.Mutex
}

// New allocates /maskLen ranges from clusterCIDR.
func New(client kubernetes.Interface, informer coreinformers.NodeInformer, clusterCIDR string, maskLen int, log *slog.Logger) (*Controller, error) {
	_, cidr, err := net.ParseCIDR(clusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("cluster CIDR %q: %w", clusterCIDR, err)
	}
	ones, bits := cidr.Mask.Size()
	if maskLen < ones || maskLen > bits {
		return nil, fmt.Errorf("node mask /%d does not fit in %s", maskLen, clusterCIDR)
	}
	c := &Controller{client: client, lister: informer.Lister(), synced: informer.Informer().HasSynced, cluster: cidr, maskLen: maskLen, log: log,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "nodeipam"})}
	_, _ = informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, n interface{}) { c.enqueue(n) },
	})
	return c, nil
}

func (c *Controller) enqueue(obj interface{}) {
	if n, ok := obj.(*corev1.Node); ok && n.Spec.PodCIDR == "" {
		c.queue.Add(n.Name)
	}
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, "nodeipam", c.queue, []cache.InformerSynced{c.synced}, c.sync, func(key string, err error) { c.log.Info("allocate pod CIDR", "node", key, "err", err) })
}

func (c *Controller) sync(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || n.Spec.PodCIDR != "" {
		return err
	}
	nodes, err := c.lister.List(labels.Everything())
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, o := range nodes {
		for _, p := range append([]string{o.Spec.PodCIDR}, o.Spec.PodCIDRs...) {
			used[p] = true
		}
	}
	cidr, err := c.free(used)
	if err != nil {
		return err
	}
	patch, _ := json.Marshal(map[string]interface{}{"spec": map[string]interface{}{"podCIDR": cidr, "podCIDRs": []string{cidr}}})
	_, err = c.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err == nil {
		c.log.Info("allocated pod CIDR", "node", name, "podCIDR", cidr)
	}
	return err
}

// free returns the first range not in used.
func (c *Controller) free(used map[string]bool) (string, error) {
	ones, bits := c.cluster.Mask.Size()
	count := 1 << uint(c.maskLen-ones)
	base := c.cluster.IP.To4()
	if base == nil {
		return "", fmt.Errorf("only IPv4 pod ranges are supported")
	}
	step := uint32(1) << uint(bits-c.maskLen)
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for i := 0; i < count; i++ {
		v := start + uint32(i)*step
		ip := net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		s := fmt.Sprintf("%s/%d", ip.String(), c.maskLen)
		if !used[s] {
			return s, nil
		}
	}
	return "", fmt.Errorf("no free /%d left in %s", c.maskLen, c.cluster)
}
