// Package resourcequota is upstream's ResourceQuota admission plugin: a
// create (or an update that grows usage) is refused when it would take a
// namespace's ResourceQuota over its hard limits, and otherwise charged to
// the quota's status.used at once, so that concurrent writes cannot together
// exceed it. The ResourceQuota controller later recomputes status.used from
// what exists.
package resourcequota

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/quota"
)

// Name is the plugin's name.
const Name = "ResourceQuota"

var quotasGVR = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}

// StatusWriter charges usage to a quota: it sets status.used of the quota
// at resourceVersion, and fails with a Conflict when the quota has changed.
type StatusWriter interface {
	UpdateQuotaStatus(ctx context.Context, q *corev1.ResourceQuota) error
}

// Plugin is the ResourceQuota plugin.
type Plugin struct {
	admission.Handler
	objects admission.Objects
	status  StatusWriter
	now     func() time.Time
}

var (
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin reading quotas from objects and charging them
// through status.
func New(objects admission.Objects, status StatusWriter) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update), objects: objects, status: status, now: time.Now}
}

// HandlesResource: every namespaced resource but quotas' own status; the
// pods' resize subresource changes what a pod asks for.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	if !t.Namespaced {
		return false
	}
	return t.Subresource == "" || t.Subresource == "resize" && t.Resource.Resource == "pods" && t.Resource.Group == ""
}

// charged: pods are charged when created (and resized); services and claims
// also when updated (type, ports, size); everything else is counted once.
func charged(a *admission.Attributes) bool {
	if a.Operation == admission.Create {
		return a.Subresource == ""
	}
	switch a.GroupResource() {
	case schema.GroupResource{Resource: "pods"}:
		return a.Subresource == "resize"
	case schema.GroupResource{Resource: "services"}, schema.GroupResource{Resource: "persistentvolumeclaims"}:
		return true
	}
	return false
}

// Validate checks the write against every quota of its namespace, then
// charges the quotas it counts against.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	if !charged(a) || a.Object == nil {
		return nil
	}
	if m, err := meta.Accessor(a.Object); err == nil && m.GetNamespace() == "" {
		m.SetNamespace(a.Namespace)
	}
	latest := false
	for attempt := 0; attempt < 5; attempt++ {
		quotas, err := p.quotas(ctx, a.Namespace, latest)
		if err != nil {
			return err
		}
		if len(quotas) == 0 {
			return nil
		}
		updated, err := p.check(a, quotas)
		if err != nil || len(updated) == 0 || a.DryRun {
			return err
		}
		conflict := false
		for _, q := range updated {
			if err := p.status.UpdateQuotaStatus(ctx, q); err != nil {
				if apierrors.IsConflict(err) {
					conflict = true
					break
				}
				return err
			}
		}
		if !conflict {
			return nil
		}
		latest = true
	}
	return a.Forbidden(errors.New("unable to update quota status: too many conflicts"))
}

func (p *Plugin) quotas(ctx context.Context, namespace string, latest bool) ([]*corev1.ResourceQuota, error) {
	objs, err := p.objects.List(ctx, quotasGVR, namespace)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.ResourceQuota, 0, len(objs))
	for _, o := range objs {
		q, ok := o.(*corev1.ResourceQuota)
		if !ok {
			continue
		}
		if latest {
			fresh, err := p.objects.Latest(ctx, quotasGVR, q.Namespace, q.Name)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			q = fresh.(*corev1.ResourceQuota)
		}
		out = append(out, q)
	}
	return out, nil
}

// check returns copies of the quotas the write is charged to, with their new
// usage, or the refusal.
func (p *Plugin) check(a *admission.Attributes, quotas []*corev1.ResourceQuota) ([]*corev1.ResourceQuota, error) {
	gr := a.GroupResource()
	now := p.now()
	var pertinent []*corev1.ResourceQuota
	for _, q := range quotas {
		match, err := quota.Matches(q, gr, a.Object)
		if err != nil {
			return nil, fmt.Errorf("error matching scopes of quota %s, err: %v", q.Name, err)
		}
		if !match {
			continue
		}
		limited := quota.Matching(gr, quotav1.ResourceNames(q.Status.Hard))
		if err := quota.Constraints(gr, limited, a.Object); err != nil {
			return nil, a.Forbidden(fmt.Errorf("failed quota: %s: %v", q.Name, err))
		}
		for _, n := range limited {
			if _, ok := q.Status.Used[n]; !ok {
				return nil, a.Forbidden(fmt.Errorf("status unknown for quota: %s, resources: %s", q.Name, names(limited)))
			}
		}
		pertinent = append(pertinent, q)
	}
	if len(pertinent) == 0 {
		return nil, nil
	}
	usage, err := quota.Usage(gr, a.Object, now)
	if err != nil {
		return nil, err
	}
	if negative := quotav1.IsNegative(usage); len(negative) > 0 {
		return nil, a.Forbidden(fmt.Errorf("quota usage is negative for resource(s): %s", names(negative)))
	}
	var out []*corev1.ResourceQuota
	for _, q := range pertinent {
		delta := usage
		if a.Operation == admission.Update && a.OldObject != nil {
			if m, err := meta.Accessor(a.OldObject); err == nil && m.GetResourceVersion() != "" {
				if was, _ := quota.Matches(q, gr, a.OldObject); was {
					prev, err := quota.Usage(gr, a.OldObject, now)
					if err != nil {
						return nil, err
					}
					delta = quotav1.SubtractWithNonNegativeResult(usage, prev)
				}
			}
		}
		delta = quotav1.RemoveZeros(delta)
		if len(delta) == 0 {
			continue
		}
		hard := quotav1.ResourceNames(q.Status.Hard)
		requested := quotav1.Mask(delta, hard)
		used := quotav1.Add(q.Status.Used, requested)
		if ok, exceeded := quotav1.LessThanOrEqual(quotav1.Mask(used, quotav1.ResourceNames(requested)), q.Status.Hard); !ok {
			return nil, a.Forbidden(fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s", q.Name,
				pretty(quotav1.Mask(requested, exceeded)), pretty(quotav1.Mask(q.Status.Used, exceeded)), pretty(quotav1.Mask(q.Status.Hard, exceeded))))
		}
		if len(requested) == 0 {
			continue
		}
		c := q.DeepCopy()
		c.Status.Used = used
		out = append(out, c)
	}
	return out, nil
}

// pretty prints a resource list as upstream's messages do: name=value, sorted.
func pretty(l corev1.ResourceList) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := l[corev1.ResourceName(k)]
		parts = append(parts, k+"="+v.String())
	}
	return strings.Join(parts, ",")
}

func names(l []corev1.ResourceName) string {
	out := make([]string, 0, len(l))
	for _, n := range l {
		out = append(out, string(n))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
