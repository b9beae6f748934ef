package podspec

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resource names the API knows, as upstream lists them.
var (
	standardResources = sets.New(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
		corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims, corev1.ResourceStorage,
		corev1.ResourceRequestsStorage, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers)
	standardQuotaResources = sets.New(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage, corev1.ResourceRequestsEphemeralStorage,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
		corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
		corev1.ResourceSecrets, corev1.ResourcePersistentVolumeClaims, corev1.ResourceConfigMaps,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers)
	integerResources = sets.New(corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices,
		corev1.ResourceReplicationControllers, corev1.ResourceSecrets, corev1.ResourceConfigMaps,
		corev1.ResourcePersistentVolumeClaims, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers)
)

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func isQuotaHugePages(name corev1.ResourceName) bool {
	return isHugePages(name) || strings.HasPrefix(string(name), "requests."+corev1.ResourceHugePagesPrefix)
}

// IsNativeResource: unprefixed names and *kubernetes.io/ names.
func IsNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// IsExtendedResource is a vendor-prefixed resource such as example.com/gpu.
func IsExtendedResource(name corev1.ResourceName) bool {
	if IsNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// IsOvercommitAllowed: requests may be below limits for native resources other
// than huge pages.
func IsOvercommitAllowed(name corev1.ResourceName) bool {
	return IsNativeResource(name) && !isHugePages(name)
}

// IsStandardQuotaResource reports whether quota tracks the resource.
func IsStandardQuotaResource(name corev1.ResourceName) bool {
	return standardQuotaResources.Has(name) || isQuotaHugePages(name)
}

// ValidateResourceName checks a resource name is qualified, and standard when it
// has no prefix.
func ValidateResourceName(name corev1.ResourceName, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(fld, name, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(string(name), "/") && !(standardResources.Has(name) || isQuotaHugePages(name)) {
		return field.ErrorList{field.Invalid(fld, name, "must be a standard resource type or fully qualified")}
	}
	return nil
}

func containerResourceName(name corev1.ResourceName, fld *field.Path) field.ErrorList {
	errs := ValidateResourceName(name, fld)
	if !strings.Contains(string(name), "/") {
		if name != corev1.ResourceCPU && name != corev1.ResourceMemory && name != corev1.ResourceEphemeralStorage && !isHugePages(name) {
			return append(errs, field.Invalid(fld, name, "must be a standard resource for containers"))
		}
	} else if !IsNativeResource(name) && !IsExtendedResource(name) {
		return append(errs, field.Invalid(fld, name, "doesn't follow extended resource name standard"))
	}
	return errs
}

var podLevelResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

func podResourceName(name corev1.ResourceName, fld *field.Path) field.ErrorList {
	if errs := ValidateResourceName(name, fld); len(errs) > 0 {
		return errs
	}
	if name != corev1.ResourceCPU && name != corev1.ResourceMemory && !isHugePages(name) {
		return field.ErrorList{field.NotSupported(fld, name, podLevelResources)}
	}
	return nil
}

// ValidateQuantity checks a quantity is not negative, and whole for counted resources.
func ValidateQuantity(name corev1.ResourceName, q resource.Quantity, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if q.Cmp(resource.Quantity{}) < 0 {
		errs = append(errs, field.Invalid(fld, q.String(), "must be greater than or equal to 0"))
	}
	if (integerResources.Has(name) || IsExtendedResource(name)) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(fld, q, "must be an integer"))
	}
	return errs
}

func validateResourceRequirements(r *corev1.ResourceRequirements, claimNames sets.Set[string],
	nameFn func(corev1.ResourceName, *field.Path) field.ErrorList, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := fld.Child("limits"), fld.Child("requests")
	cpuOrMemory, hugePages := false, false
	for _, name := range sortedNames(r.Limits) {
		q := r.Limits[name]
		p := limPath.Key(string(name))
		errs = append(errs, nameFn(name, p)...)
		errs = append(errs, ValidateQuantity(name, q, p)...)
		if isHugePages(name) {
			hugePages = true
		}
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			cpuOrMemory = true
		}
	}
	for _, name := range sortedNames(r.Requests) {
		q := r.Requests[name]
		p := reqPath.Key(string(name))
		errs = append(errs, nameFn(name, p)...)
		errs = append(errs, ValidateQuantity(name, q, p)...)
		if limit, ok := r.Limits[name]; ok {
			if q.Cmp(limit) != 0 && !IsOvercommitAllowed(name) {
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
			} else if q.Cmp(limit) > 0 {
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
			}
		} else if !IsOvercommitAllowed(name) {
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
		if isHugePages(name) {
			hugePages = true
		}
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
			cpuOrMemory = true
		}
	}
	if hugePages && !cpuOrMemory {
		errs = append(errs, field.Forbidden(fld, "HugePages require cpu or memory"))
	}
	names := sets.New[string]()
	for i, c := range r.Claims {
		p := fld.Child("claims").Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(p, ""))
		case names.Has(c.Name):
			errs = append(errs, field.Duplicate(p, c.Name))
		case !claimNames.Has(c.Name):
			errs = append(errs, field.NotFound(p, c.Name))
		}
		names.Insert(c.Name)
	}
	return errs
}

func sortedNames(list corev1.ResourceList) []corev1.ResourceName {
	names := sets.New[corev1.ResourceName]()
	for n := range list {
		names.Insert(n)
	}
	return sets.List(names)
}

// ValidateContainerResourceName checks a resource a container may request
// (LimitRanges of Pods and Containers use the same rule).
func ValidateContainerResourceName(name corev1.ResourceName, fld *field.Path) field.ErrorList {
	return containerResourceName(name, fld)
}
