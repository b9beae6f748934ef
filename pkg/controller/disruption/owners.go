package disruption

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// findOwner returns the finder that tries, in upstream's order, a
// ReplicationController, a Deployment (through its ReplicaSet), a ReplicaSet
// of no Deployment, a StatefulSet, then any resource with a scale subresource.
func (c *Controller) findOwner(ctx context.Context) ownerFinder {
	finders := []ownerFinder{c.replicationController, c.deployment, c.replicaSet, c.statefulSet,
		func(ref *metav1.OwnerReference, ns string) (*owner, error) { return c.scaled(ctx, ref, ns) }}
	return func(ref *metav1.OwnerReference, ns string) (*owner, error) {
		for _, f := range finders {
			o, err := f(ref, ns)
			if err != nil || o != nil {
				return o, err
			}
		}
		return nil, nil
	}
}

// refIs reports whether a reference names kind in one of groups.
func refIs(ref *metav1.OwnerReference, kind string, groups ...string) (bool, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false, err
	}
	if ref.Kind != kind {
		return false, nil
	}
	for _, g := range groups {
		if gv.Group == g {
			return true, nil
		}
	}
	return false, nil
}

func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func (c *Controller) replicationController(ref *metav1.OwnerReference, ns string) (*owner, error) {
	if ok, err := refIs(ref, "ReplicationController", ""); !ok || err != nil {
		return nil, err
	}
	rc, err := c.rcs.ReplicationControllers(ns).Get(ref.Name)
	if err != nil || rc.UID != ref.UID {
		return nil, nil
	}
	return &owner{uid: rc.UID, scale: replicasOf(rc.Spec.Replicas)}, nil
}

func (c *Controller) deployment(ref *metav1.OwnerReference, ns string) (*owner, error) {
	if ok, err := refIs(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, err := c.rss.ReplicaSets(ns).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil, nil
	}
	dref := metav1.GetControllerOfNoCopy(rs)
	if dref == nil {
		return nil, nil
	}
	if ok, err := refIs(dref, "Deployment", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	d, err := c.deploys.Deployments(ns).Get(dref.Name)
	if err != nil || d.UID != dref.UID {
		return nil, nil
	}
	return &owner{uid: d.UID, scale: replicasOf(d.Spec.Replicas)}, nil
}

func (c *Controller) replicaSet(ref *metav1.OwnerReference, ns string) (*owner, error) {
	if ok, err := refIs(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, err := c.rss.ReplicaSets(ns).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil, nil
	}
	if d := metav1.GetControllerOfNoCopy(rs); d != nil && d.Kind == "Deployment" {
		// Counted through its Deployment.
		return nil, nil
	}
	return &owner{uid: rs.UID, scale: replicasOf(rs.Spec.Replicas)}, nil
}

func (c *Controller) statefulSet(ref *metav1.OwnerReference, ns string) (*owner, error) {
	if ok, err := refIs(ref, "StatefulSet", "apps"); !ok || err != nil {
		return nil, err
	}
	ss, err := c.sets.StatefulSets(ns).Get(ref.Name)
	if err != nil || ss.UID != ref.UID {
		return nil, nil
	}
	return &owner{uid: ss.UID, scale: replicasOf(ss.Spec.Replicas)}, nil
}

// scaled reads the scale subresource of any other controller.
func (c *Controller) scaled(ctx context.Context, ref *metav1.OwnerReference, ns string) (*owner, error) {
	if c.cfg.Scales == nil || c.cfg.Mapper == nil {
		return nil, nil
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	mapping, err := c.cfg.Mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: ref.Kind}, gv.Version)
	if err != nil {
		return nil, err
	}
	gr := mapping.Resource.GroupResource()
	sc, err := c.cfg.Scales.Scales(ns).Get(ctx, gr, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		// Either the object is gone or it has no scale subresource: say which.
		if has, derr := c.hasScale(mapping.Resource); derr != nil {
			return nil, derr
		} else if !has {
			return nil, fmt.Errorf("%s does not implement the scale subresource", gr.String())
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if sc.UID != ref.UID {
		return nil, nil
	}
	return &owner{uid: sc.UID, scale: sc.Spec.Replicas}, nil
}

// hasScale asks discovery whether a resource has a scale subresource.
func (c *Controller) hasScale(gvr schema.GroupVersionResource) (bool, error) {
	d := c.cfg.Discovery
	if d == nil {
		d = c.cfg.Client.Discovery()
	}
	list, err := d.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource+"/scale" && r.Kind == "Scale" {
			return true, nil
		}
	}
	return false, nil
}
