package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// admitRuntimeClass applies a new pod's RuntimeClass as upstream's RuntimeClass
// admission plugin does: the class must exist, its overhead is copied into the
// pod (or must match one the pod gives), and its scheduling constraints are
// merged into the pod's node selector and tolerations.
func (a *admission) admitRuntimeClass(ctx context.Context, res *registry.Resource, pod *corev1.Pod) error {
	if pod.Spec.RuntimeClassName == nil || *pod.Spec.RuntimeClassName == "" {
		return nil
	}
	name := *pod.Spec.RuntimeClassName
	rcRes := a.reg.Get(schema.GroupVersionResource{Group: "node.k8s.io", Version: "v1", Resource: "runtimeclasses"})
	if rcRes == nil || rcRes.Store == nil {
		return nil
	}
	reject := func(msg string) error {
		return apierrors.NewForbidden(res.GroupResource(), pod.Name, errors.New("pod rejected: "+msg))
	}
	got, err := rcRes.Store.Get(ctx, rcRes.Store.Key("", name), name, storage.ReadOptions{})
	if apierrors.IsNotFound(err) {
		return reject(fmt.Sprintf("RuntimeClass %q not found", name))
	}
	if err != nil {
		return err
	}
	rc, ok := got.(*nodev1.RuntimeClass)
	if !ok {
		return nil
	}
	if rc.Overhead != nil {
		if pod.Spec.Overhead != nil && !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, rc.Overhead.PodFixed) {
			return reject("Pod's Overhead doesn't match RuntimeClass's defined Overhead")
		}
		pod.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	} else if pod.Spec.Overhead != nil {
		return reject("Pod Overhead set without corresponding RuntimeClass defined Overhead")
	}
	if rc.Scheduling != nil {
		for k, v := range rc.Scheduling.NodeSelector {
			if have, ok := pod.Spec.NodeSelector[k]; ok && have != v {
				return reject(fmt.Sprintf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, v, k, have))
			}
			if pod.Spec.NodeSelector == nil {
				pod.Spec.NodeSelector = map[string]string{}
			}
			pod.Spec.NodeSelector[k] = v
		}
		for _, t := range rc.Scheduling.Tolerations {
			dup := false
			for _, have := range pod.Spec.Tolerations {
				if apiequality.Semantic.DeepEqual(have, t) {
					dup = true
					break
				}
			}
			if !dup {
				pod.Spec.Tolerations = append(pod.Spec.Tolerations, t)
			}
		}
	}
	return nil
}
