package apiserver

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// maxGeneratedNameLength leaves room for the random suffix in a 63-character name.
const maxGeneratedNameLength = 63 - 5

// generateName appends five random characters, as upstream's SimpleNameGenerator does.
func generateName(base string) string {
	if len(base) > maxGeneratedNameLength {
		base = base[:maxGeneratedNameLength]
	}
	return base + utilrand.String(5)
}

// beforeCreate applies the generic create rules: a name, a uid, a creation time,
// no deletion fields, then the type's strategy and validation.
func beforeCreate(ctx context.Context, res *registry.Resource, obj runtime.Object) error {
	m := obj.(metav1.Object)
	if m.GetResourceVersion() != "" {
		return apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(generateName(m.GetGenerateName()))
	}
	m.SetUID(types.UID(uuid.NewString()))
	m.SetCreationTimestamp(metav1.Time{Time: time.Now().Truncate(time.Second)})
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	if !res.Namespaced {
		m.SetNamespace("")
	}
	res.Strategy.PrepareForCreate(ctx, obj)
	errs := validateMeta(res, m)
	errs = append(errs, res.Strategy.Validate(ctx, obj)...)
	if len(errs) > 0 {
		return apierrors.NewInvalid(res.GroupVersionKind().GroupKind(), m.GetName(), errs)
	}
	return nil
}

func validateMeta(res *registry.Resource, m metav1.Object) field.ErrorList {
	nameFn := res.ValidName
	if nameFn == nil {
		nameFn = apivalidation.NameIsDNSSubdomain
	}
	return apivalidation.ValidateObjectMetaAccessor(m, res.Namespaced, apivalidation.ValidateNameFunc(nameFn), field.NewPath("metadata"))
}

// updateRules says how an update treats the stored object.
type updateRules struct {
	subresource string
	// unconditional allows an update without a resourceVersion.
	unconditional bool
	// applied: server-side apply already recorded the managed fields.
	applied bool
}

// beforeUpdate applies the generic update rules to obj, the new state of old: the
// resourceVersion precondition, immutable metadata, the strategy and validation.
func beforeUpdate(ctx context.Context, res *registry.Resource, obj, old runtime.Object, rules updateRules) error {
	m, om := obj.(metav1.Object), old.(metav1.Object)
	gk := res.GroupVersionKind().GroupKind()
	switch {
	case m.GetResourceVersion() == "":
		if !rules.unconditional {
			return apierrors.NewInvalid(gk, om.GetName(), field.ErrorList{
				field.Invalid(field.NewPath("metadata", "resourceVersion"), m.GetResourceVersion(), "must be specified for an update")})
		}
	case m.GetResourceVersion() != om.GetResourceVersion():
		return apierrors.NewConflict(res.GroupResource(), om.GetName(),
			fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	if m.GetUID() != "" && m.GetUID() != om.GetUID() {
		return apierrors.NewConflict(res.GroupResource(), om.GetName(),
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", m.GetUID(), om.GetUID()))
	}
	m.SetUID(om.GetUID())
	m.SetResourceVersion(om.GetResourceVersion())
	m.SetCreationTimestamp(om.GetCreationTimestamp())
	m.SetDeletionTimestamp(om.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	m.SetSelfLink("")
	if m.GetGenerateName() == "" {
		m.SetGenerateName(om.GetGenerateName())
	}
	if !res.Namespaced {
		m.SetNamespace("")
	}
	var errs field.ErrorList
	if rules.subresource == "status" {
		if ss, ok := res.Strategy.(registry.StatusStrategy); ok {
			ss.PrepareForStatusUpdate(ctx, obj, old)
			errs = apivalidation.ValidateObjectMetaAccessorUpdate(m, om, field.NewPath("metadata"))
			errs = append(errs, ss.ValidateStatusUpdate(ctx, obj, old)...)
		}
	} else if ss, ok := res.Strategy.(registry.SubresourceStrategy); ok && res.UpdatableSubresource(rules.subresource) {
		ss.PrepareForSubresourceUpdate(ctx, rules.subresource, obj, old)
		errs = apivalidation.ValidateObjectMetaAccessorUpdate(m, om, field.NewPath("metadata"))
		errs = append(errs, ss.ValidateSubresourceUpdate(ctx, rules.subresource, obj, old)...)
	} else {
		res.Strategy.PrepareForUpdate(ctx, obj, old)
		errs = apivalidation.ValidateObjectMetaAccessorUpdate(m, om, field.NewPath("metadata"))
		errs = append(errs, validateMeta(res, m)...)
		errs = append(errs, res.Strategy.ValidateUpdate(ctx, obj, old)...)
	}
	// Finalizers may not be added to an object being deleted.
	if om.GetDeletionTimestamp() != nil {
		errs = append(errs, apivalidation.ValidateNoNewFinalizers(m.GetFinalizers(), om.GetFinalizers(), field.NewPath("metadata", "finalizers"))...)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(gk, om.GetName(), errs)
	}
	return nil
}

// managerName is the field manager of a request: the fieldManager parameter or the
// client's User-Agent up to the first slash, as upstream derives it.
func managerName(fieldManager, userAgent string) string {
	if fieldManager != "" {
		return fieldManager
	}
	prefix, _, _ := strings.Cut(userAgent, "/")
	// Printable characters only, at most 128 bytes of them.
	var name strings.Builder
	for _, r := range prefix {
		if !unicode.IsPrint(r) {
			continue
		}
		if name.Len()+utf8.RuneLen(r) > 128 {
			break
		}
		name.WriteRune(r)
	}
	if name.Len() == 0 {
		return "unknown"
	}
	return name.String()
}
