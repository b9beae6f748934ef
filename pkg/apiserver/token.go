package apiserver

import (
	"fmt"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	info, err := inputSerializer(q.r)
	if err != nil {
		return err
	}
	gvk := authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
	if _, _, err := info.Serializer.Decode(body, &gvk, tr); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("TokenRequest cannot be decoded: %v", err))
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
	var podRef *serviceaccount.Ref
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		switch ref.Kind {
		case "Pod":
			pods := q.s.cfg.Registry.Get(schema.GroupVersionResource{Version: "v1", Resource: "pods"})
			p, err := pods.Store.Get(ctx, pods.Store.Key(q.info.Namespace, ref.Name), ref.Name, storage.ReadOptions{})
			if err != nil {
				return err
			}
			pod := p.(*corev1.Pod)
			if ref.UID != "" && ref.UID != pod.UID {
				return apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, ref.Name,
					fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
			}
			podRef = &serviceaccount.Ref{Name: pod.Name, UID: string(pod.UID)}
		case "Secret", "Node", "":
		default:
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for object of kind %q", ref.Kind))
		}
	}
	now := time.Now()
	token, exp, err := signer.Issue(q.info.Namespace, serviceaccount.Ref{Name: saObj.Name, UID: string(saObj.UID)}, podRef,
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
