package namespace

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
)

var metav1Update = metav1.UpdateOptions{}

func metav1Now() metav1.Time { return metav1.NewTime(time.Now()) }

// contentDeleter deletes every namespaced object of a namespace, for each resource
// discovery lists as deletable.
type contentDeleter struct {
	discovery discovery.DiscoveryInterface
	metadata  metadata.Interface
}

// NewContentDeleter uses discovery to find resources and the metadata client to
// delete and count them.
func NewContentDeleter(d discovery.DiscoveryInterface, m metadata.Interface) *contentDeleter {
	return &contentDeleter{discovery: d, metadata: m}
}

// deleteAll deletes the namespace's content and reports how many objects remain.
func (d *contentDeleter) deleteAll(ctx context.Context, ns string) (int, error) {
	lists, err := d.discovery.ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return 0, fmt.Errorf("discover resources: %w", err)
	}
	remaining := 0
	var errs []string
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !has(r.Verbs, "list") || !has(r.Verbs, "delete") {
				continue
			}
			res := d.metadata.Resource(gv.WithResource(r.Name)).Namespace(ns)
			if has(r.Verbs, "deletecollection") {
				if err := res.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
					errs = append(errs, fmt.Sprintf("%s: %v", r.Name, err))
				}
			}
			items, err := res.List(ctx, metav1.ListOptions{})
			if err != nil {
				if !apierrors.IsNotFound(err) {
					errs = append(errs, fmt.Sprintf("list %s: %v", r.Name, err))
				}
				continue
			}
			for _, it := range items.Items {
				remaining++
				if it.DeletionTimestamp == nil {
					if err := res.Delete(ctx, it.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
						errs = append(errs, fmt.Sprintf("delete %s/%s: %v", r.Name, it.Name, err))
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return remaining, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return remaining, nil
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
