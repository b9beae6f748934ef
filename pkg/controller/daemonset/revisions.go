package daemonset

import (
	"bytes"
	"context"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/history"
)

// templatePatch is what a revision stores: a strategic merge patch that puts
// the DaemonSet's template back, {"spec":{"template":{...,"$patch":"replace"}}}.
func templatePatch(ds *appsv1.DaemonSet) ([]byte, error) {
	raw, err := utiljson.Marshal(ds)
	if err != nil {
		return nil, fmt.Errorf("encode DaemonSet %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	var obj map[string]interface{}
	if err := utiljson.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	spec, _ := obj["spec"].(map[string]interface{})
	template, _ := spec["template"].(map[string]interface{})
	if template == nil {
		template = map[string]interface{}{}
	}
	template["$patch"] = "replace"
	return utiljson.Marshal(map[string]interface{}{"spec": map[string]interface{}{"template": template}})
}

// matches: rev records ds's current template.
func matches(ds *appsv1.DaemonSet, rev *appsv1.ControllerRevision) (bool, error) {
	patch, err := templatePatch(ds)
	if err != nil {
		return false, err
	}
	return bytes.Equal(patch, rev.Data.Raw), nil
}

// splitHistory separates the revision recording ds's template (there may be
// duplicates) from the older ones.
func splitHistory(ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision) (current, old []*appsv1.ControllerRevision, err error) {
	for _, r := range revs {
		ok, err := matches(ds, r)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			current = append(current, r)
		} else {
			old = append(old, r)
		}
	}
	return current, old, nil
}

// keepOf picks, among duplicates of the current revision, the one to keep:
// the highest Revision (the last of equals).
func keepOf(dups []*appsv1.ControllerRevision) *appsv1.ControllerRevision {
	var keep *appsv1.ControllerRevision
	for _, r := range dups {
		if keep == nil || r.Revision >= keep.Revision {
			keep = r
		}
	}
	return keep
}

// constructHistory finds (or records) the revision of ds's template, numbered
// above all older ones, and returns it with the older revisions. Revisions
// are claimed first; ones without the hash label get their name as hash;
// duplicates of the current revision are merged, their pods relabelled.
func (c *Controller) constructHistory(ctx context.Context, ds *appsv1.DaemonSet, m *controllerref.Manager, pods []*corev1.Pod) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, nil, err
	}
	revs, err := c.history.Claim(ctx, m, selector)
	if err != nil {
		return nil, nil, fmt.Errorf("claim revisions: %w", err)
	}
	for i, r := range revs {
		if _, ok := r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; ok {
			continue
		}
		r = r.DeepCopy()
		if r.Labels == nil {
			r.Labels = map[string]string{}
		}
		r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = r.Name
		if revs[i], err = c.cfg.Client.AppsV1().ControllerRevisions(r.Namespace).Update(ctx, r, metav1.UpdateOptions{}); err != nil {
			return nil, nil, fmt.Errorf("label revision %s: %w", r.Name, err)
		}
	}
	current, old, err := splitHistory(ds, revs)
	if err != nil {
		return nil, nil, err
	}
	next := history.Max(old) + 1
	if len(current) == 0 {
		cur, err := c.snapshot(ctx, ds, next)
		return cur, old, err
	}
	cur := keepOf(current)
	if len(current) > 1 {
		if err := c.dedup(ctx, ds, cur, current, pods); err != nil {
			return nil, nil, err
		}
	}
	if cur.Revision < next {
		cur = cur.DeepCopy()
		cur.Revision = next
		if cur, err = c.cfg.Client.AppsV1().ControllerRevisions(ds.Namespace).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return nil, nil, fmt.Errorf("renumber revision %s: %w", cur.Name, err)
		}
	}
	return cur, old, nil
}

// dedup relabels pods of duplicate current revisions to keep's hash and
// deletes the duplicates.
func (c *Controller) dedup(ctx context.Context, ds *appsv1.DaemonSet, keep *appsv1.ControllerRevision, dups []*appsv1.ControllerRevision, pods []*corev1.Pod) error {
	hash := keep.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	for _, p := range pods {
		if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
			continue
		}
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, appsv1.DefaultDaemonSetUniqueLabelKey, hash)
		if _, err := c.cfg.Client.CoreV1().Pods(ds.Namespace).Patch(ctx, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("relabel pod %s: %w", p.Name, err)
		}
	}
	for _, r := range dups {
		if r.Name == keep.Name {
			continue
		}
		if err := c.history.Delete(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// snapshot records ds's template as revision n, named <ds>-<template hash>.
// When another template already holds the name, the DaemonSet's collision
// count is bumped (so the next sync computes another name) and the sync fails
// to be retried, as upstream.
func (c *Controller) snapshot(ctx context.Context, ds *appsv1.DaemonSet, n int64) (*appsv1.ControllerRevision, error) {
	patch, err := templatePatch(ds)
	if err != nil {
		return nil, err
	}
	hash := history.TemplateHash(&ds.Spec.Template, ds.Status.CollisionCount)
	labels := make(map[string]string, len(ds.Spec.Template.Labels)+1)
	for k, v := range ds.Spec.Template.Labels {
		labels[k] = v
	}
	labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	rev := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name + "-" + hash, Namespace: ds.Namespace, Labels: labels, Annotations: ds.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, kind)}},
		Data:     runtime.RawExtension{Raw: patch},
		Revision: n,
	}
	revs := c.cfg.Client.AppsV1().ControllerRevisions(ds.Namespace)
	created, err := revs.Create(ctx, rev, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return nil, fmt.Errorf("create revision %s: %w", rev.Name, err)
		}
		return created, nil
	}
	existing, gerr := revs.Get(ctx, rev.Name, metav1.GetOptions{})
	if gerr != nil {
		return nil, gerr
	}
	if ok, merr := matches(ds, existing); merr != nil || ok {
		return existing, merr
	}
	fresh, gerr := c.cfg.Client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	if gerr != nil {
		return nil, gerr
	}
	if !reflect.DeepEqual(fresh.Status.CollisionCount, ds.Status.CollisionCount) {
		return nil, fmt.Errorf("found a stale collision count (%v, expected %v) of DaemonSet %q while processing; will retry until it is updated",
			countOf(ds.Status.CollisionCount), countOf(fresh.Status.CollisionCount), ds.Name)
	}
	bumped := countOf(fresh.Status.CollisionCount) + 1
	fresh.Status.CollisionCount = &bumped
	if _, uerr := c.cfg.Client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, fresh, metav1.UpdateOptions{}); uerr != nil {
		return nil, uerr
	}
	return nil, fmt.Errorf("create revision %s: %w", rev.Name, err)
}

func countOf(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// pruneHistory deletes old revisions beyond revisionHistoryLimit that no pod
// runs; old revisions pods still run count against the limit (upstream's rule).
func (c *Controller) pruneHistory(ctx context.Context, ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision, pods []*corev1.Pod) error {
	limit := int32(defaultHistoryLimit)
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = *ds.Spec.RevisionHistoryLimit
	}
	live := map[string]bool{}
	for _, p := range pods {
		if h := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; h != "" {
			live[h] = true
		}
	}
	for _, r := range history.Prune(old, func(r *appsv1.ControllerRevision) bool { return live[r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] }, limit, true) {
		if err := c.history.Delete(ctx, r); err != nil {
			return fmt.Errorf("failed to clean up revisions of DaemonSet: %w", err)
		}
	}
	return nil
}
