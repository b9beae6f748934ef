package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/storage"
)

func init() { subresourceHandlers["serviceaccounts/token"] = (*request).createToken }

// Token lifetimes, as upstream bounds them.
const (
	minTokenSeconds     = 600
	defaultTokenSeconds = 3600
	maxTokenSeconds     = 1<<32 - 1
)

// createToken answers POST serviceaccounts/<name>/token (TokenRequest).
func (q *request) createToken() error {
	if q.info.Verb != "create" {
		return methodNotSupported(schema.GroupResource{Resource: "serviceaccounts/token"}, q.info.Verb)
	}
	signer := q.s.cfg.ServiceAccounts
	if signer == nil {
		return apierrors.NewServiceUnavailable("service account tokens are not configured")
	}
	body, err := q.readBody()
	if err != nil {
		return err
	}
	tr := &authenticationv1.TokenRequest{}
	gvk := authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
	if err := decodeBody(q.r, body, gvk, tr); err != nil {
		return err
	}
	secs := int64(defaultTokenSeconds)
	if tr.Spec.ExpirationSeconds != nil {
		secs = *tr.Spec.ExpirationSeconds
	}
	var errs field.ErrorList
	if secs < minTokenSeconds {
		errs = append(errs, field.Invalid(field.NewPath("spec", "expirationSeconds"), secs, "may not specify a duration less than 10 minutes"))
	}
	if secs > maxTokenSeconds {
		errs = append(errs, field.TooLong(field.NewPath("spec", "expirationSeconds"), secs, maxTokenSeconds))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(gvk.GroupKind(), q.info.Name, errs)
	}
	ctx := withAdmissionWrite(withAdmissionWarnings(q.ctx(), &q.warnings), "token", false)
	tr.SetGroupVersionKind(gvk)
	a := q.s.admissionFor(ctx, admission.Create, q.res, q.info.Namespace, q.info.Name, tr, nil)
	if err := q.s.mutate(ctx, a); err != nil {
		return err
	}
	if err := q.s.validate(ctx, a, nil); err != nil {
		return err
	}
	sa, err := q.res.Store.Get(ctx, q.res.Store.Key(q.info.Namespace, q.info.Name), q.info.Name, storage.ReadOptions{})
	if err != nil {
		return err
	}
	saObj := sa.(*corev1.ServiceAccount)
	bound, err := q.tokenBinding(ctx, tr.Spec.BoundObjectRef)
	if err != nil {
		return err
	}
	now := time.Now()
	token, exp, err := signer.Issue(q.info.Namespace, serviceaccount.Ref{Name: saObj.Name, UID: string(saObj.UID)}, bound,
		tr.Spec.Audiences, time.Duration(secs)*time.Second, now)
	if err != nil {
		return err
	}
	out := tr.DeepCopy()
	out.TypeMeta = metav1.TypeMeta{Kind: "TokenRequest", APIVersion: "authentication.k8s.io/v1"}
	out.Name, out.Namespace = saObj.Name, saObj.Namespace
	out.CreationTimestamp = metav1.NewTime(now.Truncate(time.Second))
	out.Spec.ExpirationSeconds = &secs
	if len(out.Spec.Audiences) == 0 {
		out.Spec.Audiences = []string{signer.Issuer()}
	}
	out.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(exp.Truncate(time.Second))}
	return q.respond(http.StatusCreated, out)
}

// tokenBinding resolves a TokenRequest's bound object. A pod's token also names
// the pod's node (by name alone when the Node object is missing), as upstream's
// ServiceAccountTokenPodNodeInfo does.
func (q *request) tokenBinding(ctx context.Context, ref *authenticationv1.BoundObjectReference) (serviceaccount.Binding, error) {
	var b serviceaccount.Binding
	if ref == nil {
		return b, nil
	}
	get := func(resource, namespace, name string) (runtime.Object, error) {
		res := q.s.cfg.Registry.Get(schema.GroupVersionResource{Version: "v1", Resource: resource})
		return res.Store.Get(ctx, res.Store.Key(namespace, name), name, storage.ReadOptions{})
	}
	checkUID := func(resource string, uid types.UID) error {
		if ref.UID != "" && ref.UID != uid {
			return apierrors.NewConflict(schema.GroupResource{Resource: resource}, ref.Name,
				fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
		}
		return nil
	}
	switch ref.Kind {
	case "Pod":
		obj, err := get("pods", q.info.Namespace, ref.Name)
		if err != nil {
			return b, err
		}
		pod := obj.(*corev1.Pod)
		if err := checkUID("pods", pod.UID); err != nil {
			return b, err
		}
		b.Pod = &serviceaccount.Ref{Name: pod.Name, UID: string(pod.UID)}
		if nodeName := pod.Spec.NodeName; nodeName != "" {
			b.Node = &serviceaccount.Ref{Name: nodeName}
			obj, err := get("nodes", "", nodeName)
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return b, apierrors.NewInternalError(err)
			default:
				b.Node.UID = string(obj.(*corev1.Node).UID)
			}
		}
	case "Node":
		obj, err := get("nodes", "", ref.Name)
		if err != nil {
			return b, err
		}
		node := obj.(*corev1.Node)
		if err := checkUID("nodes", node.UID); err != nil {
			return b, err
		}
		b.Node = &serviceaccount.Ref{Name: node.Name, UID: string(node.UID)}
	case "Secret", "":
	default:
		return b, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for object of kind %q", ref.Kind))
	}
	return b, nil
}
