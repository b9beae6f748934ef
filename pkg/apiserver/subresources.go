package apiserver

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// scaleOf builds the autoscaling/v1 Scale of an object.
func scaleOf(res *registry.Resource, obj runtime.Object) (*autoscalingv1.Scale, error) {
	m := obj.(metav1.Object)
	spec, status := res.Scale.GetReplicas(obj)
	sel := ""
	if res.Scale.Selector != nil {
		var err error
		if sel, err = res.Scale.Selector(obj); err != nil {
			return nil, err
		}
	}
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: sel},
	}, nil
}

// serveScale answers get, update and patch of /scale.
func (q *request) serveScale() error {
	switch q.info.Verb {
	case "get":
		obj, err := q.res.Store.Get(q.ctx(), q.res.Store.Key(q.info.Namespace, q.info.Name), q.info.Name, storage.ReadOptions{ResourceVersion: q.query.Get("resourceVersion")})
		if err != nil {
			return err
		}
		served, err := toServed(q.res, obj)
		if err != nil {
			return err
		}
		sc, err := scaleOf(q.res, served)
		if err != nil {
			return err
		}
		return q.respond(http.StatusOK, sc)
	case "update", "patch":
	default:
		return methodNotSupported(schema.GroupResource{Group: q.res.Group, Resource: q.res.Name + "/scale"}, q.info.Verb)
	}
	if q.info.Verb == "patch" {
		if pt, _, err := mime.ParseMediaType(q.r.Header.Get("Content-Type")); err != nil || !contains(builtinPatchTypes, pt) {
			return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "", schema.GroupResource{}, "", "415: Unsupported Media Type", 0, false)
		}
	}
	body, err := q.readBody()
	if err != nil {
		return err
	}
	opts, err := q.writeOptions()
	if err != nil {
		return err
	}
	patchType := ""
	if q.info.Verb == "patch" {
		patchType = q.r.Header.Get("Content-Type")
	}
	out, _, err := q.s.updateObject(withAdmissionWarnings(q.ctx(), &q.warnings), q.res, q.info.Namespace, q.info.Name, "scale", false,
		updateRules{unconditional: true}, opts, func(ctx context.Context, existing runtime.Object) (runtime.Object, error) {
			cur, err := scaleOf(q.res, existing)
			if err != nil {
				return nil, err
			}
			var want *autoscalingv1.Scale
			if patchType == "" {
				want = &autoscalingv1.Scale{}
				if err := decodeBody(q.r, body, scaleGVK, want); err != nil {
					return nil, err
				}
			} else {
				if want, err = patchScale(q, cur, patchType, body); err != nil {
					return nil, err
				}
			}
			if want.Name != "" && want.Name != q.info.Name {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", want.Name, q.info.Name))
			}
			if want.ResourceVersion != "" && want.ResourceVersion != cur.ResourceVersion {
				return nil, apierrors.NewConflict(schema.GroupResource{Group: q.res.Group, Resource: q.res.Name}, q.info.Name,
					fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
			}
			if want.Spec.Replicas < 0 {
				return nil, apierrors.NewInvalid(scaleGVK.GroupKind(), q.info.Name, field.ErrorList{
					field.Invalid(field.NewPath("spec", "replicas"), want.Spec.Replicas, "must be greater than or equal to 0")})
			}
			// A copy: the update compares the result with existing, and a
			// changed spec must count as a new generation.
			scaled := existing.DeepCopyObject()
			q.res.Scale.SetReplicas(scaled, want.Spec.Replicas)
			return scaled, nil
		})
	if err != nil {
		return err
	}
	sc, err := scaleOf(q.res, out)
	if err != nil {
		return err
	}
	return q.respond(http.StatusOK, sc)
}

func patchScale(q *request, cur *autoscalingv1.Scale, patchType string, body []byte) (*autoscalingv1.Scale, error) {
	saved := q.res
	defer func() { q.res = saved }()
	q.res = &registry.Resource{Group: "autoscaling", Version: "v1", Name: saved.Name, Kind: "Scale",
		New: func() runtime.Object { return &autoscalingv1.Scale{} }}
	pt := patchType
	if i := indexByte(pt, ';'); i >= 0 {
		pt = pt[:i]
	}
	if pt == string(types.ApplyYAMLPatchType) {
		return nil, statusError(http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType, "apply patches are not supported on the scale subresource")
	}
	obj, _, err := q.mergePatch(pt, cur, body, "Ignore")
	if err != nil {
		return nil, err
	}
	return obj.(*autoscalingv1.Scale), nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// finalizeNamespace takes only spec.finalizers from a namespaces/finalize update.
func finalizeNamespace(newObj, existing runtime.Object) (runtime.Object, error) {
	n, ok := newObj.(*corev1.Namespace)
	e, ok2 := existing.(*corev1.Namespace)
	if !ok || !ok2 {
		return nil, fmt.Errorf("finalize: not a namespace")
	}
	e.Spec.Finalizers = n.Spec.Finalizers
	return e, nil
}

// createBinding binds a pod to a node, as the scheduler does.
func (q *request) createBinding() error {
	body, err := q.readBody()
	if err != nil {
		return err
	}
	b := &corev1.Binding{}
	if err := decodeBody(q.r, body, corev1.SchemeGroupVersion.WithKind("Binding"), b); err != nil {
		return err
	}
	if b.Name == "" {
		b.Name = q.info.Name
	}
	ctx := withAdmissionWrite(withAdmissionWarnings(q.ctx(), &q.warnings), "binding", false)
	b.SetGroupVersionKind(gvkBinding)
	a := q.s.admissionFor(ctx, admission.Create, q.res, q.info.Namespace, q.info.Name, b, nil)
	if err := q.s.mutate(ctx, a); err != nil {
		return err
	}
	if err := q.s.validate(ctx, a, nil); err != nil {
		return err
	}
	if err := q.s.bindPod(withAdmitted(ctx), q.res, q.info.Namespace, b); err != nil {
		return err
	}
	return q.respond(http.StatusCreated, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated})
}

// bindPod sets a pod's node once; binding a bound pod is a conflict.
func (s *Server) bindPod(ctx context.Context, pods *registry.Resource, namespace string, b *corev1.Binding) error {
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return apierrors.NewInvalid(gvkBinding.GroupKind(), b.Name, field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", "<empty>"})})
	}
	if b.Target.Name == "" {
		return apierrors.NewInvalid(gvkBinding.GroupKind(), b.Name, field.ErrorList{field.Required(field.NewPath("target", "name"), "")})
	}
	_, _, err := s.updateObject(ctx, pods, namespace, b.Name, "binding", false, updateRules{unconditional: true, applied: true},
		writeOptions{manager: "kube-scheduler"}, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			pod := existing.(*corev1.Pod)
			if pod.DeletionTimestamp != nil {
				return nil, apierrors.NewConflict(pods.GroupResource(), b.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", b.Name))
			}
			if b.UID != "" && b.UID != pod.UID {
				return nil, apierrors.NewConflict(pods.GroupResource(), b.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
			}
			if pod.Spec.NodeName != "" {
				return nil, apierrors.NewConflict(pods.GroupResource(), b.Name, fmt.Errorf("pod %s is already assigned to node %q", b.Name, pod.Spec.NodeName))
			}
			pod.Spec.NodeName = b.Target.Name
			for k, v := range b.Annotations {
				if pod.Annotations == nil {
					pod.Annotations = map[string]string{}
				}
				pod.Annotations[k] = v
			}
			setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(time.Now())})
			return pod, nil
		})
	return err
}

var gvkBinding = corev1.SchemeGroupVersion.WithKind("Binding")

func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			if st.Conditions[i].Status != c.Status {
				st.Conditions[i] = c
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}
