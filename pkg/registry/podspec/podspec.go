// Package podspec defaults and validates pod specs and pod templates, shared by
// pods and every workload resource that embeds a template, with upstream's field
// paths and messages.
package podspec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Options say how a spec is checked.
type Options struct {
	// IsPod: the spec is a pod's, not a template's (host ports must match container
	// ports on the host network, images may not be padded).
	IsPod bool
}

// ValidatePodSpec checks a pod spec; meta is the pod's (or template's) metadata.
func ValidatePodSpec(spec *corev1.PodSpec, meta *metav1.ObjectMeta, fld *field.Path) field.ErrorList {
	return ValidatePodSpecWith(spec, meta, fld, Options{})
}

// ValidatePodTemplateSpec checks a template's labels, annotations and spec.
func ValidatePodTemplateSpec(t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	if t == nil {
		return field.ErrorList{field.Required(fld, "")}
	}
	// Upstream reports template labels at <template>.labels, not .metadata.labels.
	errs := metavalidation.ValidateLabels(t.Labels, fld.Child("labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(t.Annotations, fld.Child("annotations"))...)
	errs = append(errs, validatePodAnnotations(t.Annotations, &t.Spec, fld.Child("annotations"))...)
	errs = append(errs, ValidatePodSpecWith(&t.Spec, nil, fld.Child("spec"), Options{})...)
	if len(t.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(fld.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return errs
}

// ValidatePod checks a pod's spec and the pod-only rules: its annotations, token
// projections needing a service account, unpadded images.
func ValidatePod(pod *corev1.Pod) field.ErrorList {
	spec := field.NewPath("spec")
	errs := validatePodAnnotations(pod.Annotations, &pod.Spec, field.NewPath("metadata", "annotations"))
	errs = append(errs, ValidatePodSpecWith(&pod.Spec, &pod.ObjectMeta, spec, Options{IsPod: true})...)
	if pod.Spec.ServiceAccountName == "" {
		for vi, v := range pod.Spec.Volumes {
			if v.Projected == nil {
				continue
			}
			for si, src := range v.Projected.Sources {
				if src.ServiceAccountToken != nil {
					errs = append(errs, field.Forbidden(spec.Child("volumes").Index(vi).Child("projected", "sources").Index(si).Child("serviceAccountToken"),
						"must not be specified when serviceAccountName is not set"))
				}
			}
		}
	}
	for i := range pod.Spec.Containers {
		errs = append(errs, validateImageWhitespace(&pod.Spec.Containers[i], spec.Child("containers").Index(i))...)
	}
	for i := range pod.Spec.InitContainers {
		errs = append(errs, validateImageWhitespace(&pod.Spec.InitContainers[i], spec.Child("initContainers").Index(i))...)
	}
	return errs
}

// ValidatePodSpecWith checks a pod spec with options.
func ValidatePodSpecWith(spec *corev1.PodSpec, meta *metav1.ObjectMeta, fld *field.Path, opts Options) field.ErrorList {
	var errs field.ErrorList
	if spec.TerminationGracePeriodSeconds == nil {
		errs = append(errs, field.Required(fld.Child("terminationGracePeriodSeconds"), ""))
	}
	podName := ""
	if meta != nil {
		podName = meta.Name
	}
	vols, vErrs := validateVolumes(spec.Volumes, podName, fld.Child("volumes"))
	errs = append(errs, vErrs...)
	claims, cErrs := validateResourceClaims(spec.ResourceClaims, fld.Child("resourceClaims"))
	errs = append(errs, cErrs...)
	pc := &podContext{
		volumes: vols, claimNames: claims, gracePeriod: spec.TerminationGracePeriodSeconds,
		restartPolicy: spec.RestartPolicy, os: spec.OS,
		hostUsers: spec.HostUsers == nil || *spec.HostUsers,
	}
	errs = append(errs, validateContainers(spec.Containers, pc, fld.Child("containers"))...)
	errs = append(errs, validateInitContainers(spec.InitContainers, spec.Containers, pc, fld.Child("initContainers"))...)
	errs = append(errs, validateEphemeralContainers(spec.EphemeralContainers, spec.Containers, spec.InitContainers, pc, fld.Child("ephemeralContainers"))...)
	if spec.Resources != nil {
		errs = append(errs, validatePodResources(spec, fld.Child("resources"))...)
	}
	if spec.HostNetwork {
		for i, c := range spec.Containers {
			for j, port := range c.Ports {
				if (opts.IsPod || port.HostPort != 0) && port.HostPort != port.ContainerPort {
					errs = append(errs, field.Invalid(fld.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"), port.HostPort,
						"must match `containerPort` when `hostNetwork` is true"))
				}
			}
		}
	}
	errs = append(errs, validateRestartPolicy(spec.RestartPolicy, fld.Child("restartPolicy"))...)
	errs = append(errs, validateDNSPolicy(spec.DNSPolicy, fld.Child("dnsPolicy"))...)
	errs = append(errs, metavalidation.ValidateLabels(spec.NodeSelector, fld.Child("nodeSelector"))...)
	errs = append(errs, validatePodSecurityContext(spec, fld.Child("securityContext"))...)
	for i, s := range spec.ImagePullSecrets {
		if s != (corev1.LocalObjectReference{Name: s.Name}) {
			errs = append(errs, field.Invalid(fld.Child("imagePullSecrets").Index(i), GoNamed(s), "only name may be set"))
		}
	}
	errs = append(errs, validateAffinity(spec.Affinity, fld.Child("affinity"))...)
	errs = append(errs, validateDNSConfig(spec.DNSConfig, spec.DNSPolicy, fld.Child("dnsConfig"))...)
	for i, g := range spec.ReadinessGates {
		errs = append(errs, qualifiedName(string(g.ConditionType), fld.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	gates := sets.New[string]()
	for i, g := range spec.SchedulingGates {
		errs = append(errs, qualifiedName(g.Name, fld.Child("schedulingGates").Index(i))...)
		if gates.Has(g.Name) {
			errs = append(errs, field.Duplicate(fld.Child("schedulingGates").Index(i), g.Name))
		}
		gates.Insert(g.Name)
	}
	errs = append(errs, validateTopologySpread(spec.TopologySpreadConstraints, fld.Child("topologySpreadConstraints"))...)
	if spec.HostUsers != nil && !*spec.HostUsers {
		if spec.HostNetwork {
			errs = append(errs, field.Forbidden(fld.Child("hostNetwork"), "when `hostUsers` is false"))
		}
		if spec.HostPID {
			errs = append(errs, field.Forbidden(fld.Child("HostPID"), "when `hostUsers` is false"))
		}
		if spec.HostIPC {
			errs = append(errs, field.Forbidden(fld.Child("HostIPC"), "when `hostUsers` is false"))
		}
	}
	if h := spec.HostnameOverride; h != nil {
		if spec.SetHostnameAsFQDN != nil && *spec.SetHostnameAsFQDN {
			errs = append(errs, field.Forbidden(fld.Child("hostnameOverride"), "may not be specified when setHostnameAsFQDN is true"))
		}
		if spec.HostNetwork {
			errs = append(errs, field.Forbidden(fld.Child("hostnameOverride"), "may not be specified when hostNetwork is true"))
		}
		if len(*h) > 64 {
			errs = append(errs, field.TooLong(fld.Child("hostnameOverride"), "", 64))
		}
		errs = append(errs, dns1123Subdomain(*h, fld.Child("hostnameOverride"))...)
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(spec.ServiceAccountName, false) {
			errs = append(errs, field.Invalid(fld.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	if spec.NodeName != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(spec.NodeName, false) {
			errs = append(errs, field.Invalid(fld.Child("nodeName"), spec.NodeName, msg))
		}
	}
	if d := spec.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		errs = append(errs, field.Invalid(fld.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	if spec.Hostname != "" {
		errs = append(errs, dns1123Label(spec.Hostname, fld.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, dns1123Label(spec.Subdomain, fld.Child("subdomain"))...)
	}
	errs = append(errs, ValidateTolerations(spec.Tolerations, fld.Child("tolerations"))...)
	for i, ha := range spec.HostAliases {
		p := fld.Child("hostAliases").Index(i)
		errs = append(errs, validation.IsValidIPForLegacyField(p.Child("ip"), ha.IP, false, nil)...)
		for j, h := range ha.Hostnames {
			errs = append(errs, dns1123Subdomain(h, p.Child("hostnames").Index(j))...)
		}
	}
	if spec.PriorityClassName != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(spec.PriorityClassName, false) {
			errs = append(errs, field.Invalid(fld.Child("priorityClassName"), spec.PriorityClassName, msg))
		}
	}
	if rc := spec.RuntimeClassName; rc != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*rc, false) {
			errs = append(errs, field.Invalid(fld.Child("runtimeClassName"), *rc, msg))
		}
	}
	if p := spec.PreemptionPolicy; p != nil {
		switch *p {
		case corev1.PreemptLowerPriority, corev1.PreemptNever:
		case "":
			errs = append(errs, field.Required(fld.Child("preemptionPolicy"), ""))
		default:
			errs = append(errs, field.NotSupported(fld.Child("preemptionPolicy"), p, []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}))
		}
	}
	for _, name := range sortedNames(spec.Overhead) {
		p := fld.Child("overhead").Key(string(name))
		errs = append(errs, ValidateResourceName(name, p)...)
		errs = append(errs, ValidateQuantity(name, spec.Overhead[name], p)...)
	}
	if os := spec.OS; os != nil {
		switch {
		case os.Name == "":
			errs = append(errs, field.Required(fld.Child("os", "name"), ""))
		case os.Name != corev1.Linux && os.Name != corev1.Windows:
			errs = append(errs, field.NotSupported(fld.Child("os"), os.Name, []corev1.OSName{corev1.Linux, corev1.Windows}))
		case os.Name == corev1.Linux:
			errs = append(errs, validateLinuxOnly(spec, fld)...)
		}
	}
	return errs
}

func validateLinuxOnly(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	const msg = "windows options cannot be set for a linux pod"
	if sc := spec.SecurityContext; sc != nil && sc.WindowsOptions != nil {
		errs = append(errs, field.Forbidden(fld.Child("securityContext", "windowsOptions"), msg))
	}
	visit := func(list []corev1.Container, name string) {
		for i, c := range list {
			if c.SecurityContext != nil && c.SecurityContext.WindowsOptions != nil {
				errs = append(errs, field.Forbidden(fld.Child(name).Index(i).Child("securityContext", "windowsOptions"), msg))
			}
		}
	}
	visit(spec.InitContainers, "initContainers")
	visit(spec.Containers, "containers")
	return errs
}

func validateResourceClaims(claims []corev1.PodResourceClaim, fld *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, c := range claims {
		p := fld.Index(i)
		if names.Has(c.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		} else {
			errs = append(errs, dns1123Label(c.Name, p.Child("name"))...)
			names.Insert(c.Name)
		}
		n := 0
		if c.ResourceClaimName != nil {
			n++
		}
		if c.ResourceClaimTemplateName != nil {
			n++
		}
		if n != 1 {
			errs = append(errs, field.Invalid(p, GoNamed(c), "exactly one of `resourceClaimName` or `resourceClaimTemplateName` must be set"))
		}
	}
	return names, errs
}

func validatePodResources(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	if spec.OS != nil && spec.OS.Name == corev1.Windows {
		return field.ErrorList{field.Forbidden(fld, "may not be set for a windows pod")}
	}
	var errs field.ErrorList
	if spec.Resources.Claims != nil {
		errs = append(errs, field.Forbidden(fld.Child("claims"), "claims may not be set for Resources at pod-level"))
	}
	return append(errs, validateResourceRequirements(spec.Resources, nil, podResourceName, fld)...)
}

func validateRestartPolicy(p corev1.RestartPolicy, fld *field.Path) field.ErrorList {
	switch p {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
		return nil
	case "":
		return field.ErrorList{field.Required(fld, "")}
	}
	return field.ErrorList{field.NotSupported(fld, p, []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever})}
}

func validateDNSPolicy(p corev1.DNSPolicy, fld *field.Path) field.ErrorList {
	switch p {
	case corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone:
		return nil
	case "":
		return field.ErrorList{field.Required(fld, "")}
	}
	return field.ErrorList{field.NotSupported(fld, p, []corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone})}
}

func validateDNSConfig(c *corev1.PodDNSConfig, policy corev1.DNSPolicy, fld *field.Path) field.ErrorList {
	if policy == corev1.DNSNone {
		if c == nil {
			return field.ErrorList{field.Required(fld, fmt.Sprintf("must provide `dnsConfig` when `dnsPolicy` is %s", corev1.DNSNone))}
		}
		if len(c.Nameservers) == 0 {
			return field.ErrorList{field.Required(fld.Child("nameservers"), fmt.Sprintf("must provide at least one DNS nameserver when `dnsPolicy` is %s", corev1.DNSNone))}
		}
	}
	if c == nil {
		return nil
	}
	var errs field.ErrorList
	if len(c.Nameservers) > 3 {
		errs = append(errs, field.Invalid(fld.Child("nameservers"), c.Nameservers, "must not have more than 3 nameservers"))
	}
	for i, ns := range c.Nameservers {
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Child("nameservers").Index(i), ns, false, nil)...)
	}
	if len(c.Searches) > 32 {
		errs = append(errs, field.Invalid(fld.Child("searches"), c.Searches, "must not have more than 32 search paths"))
	}
	if len(strings.Join(c.Searches, " ")) > 2048 {
		errs = append(errs, field.Invalid(fld.Child("searches"), c.Searches, "must not have more than 2048 characters (including spaces) in the search list"))
	}
	for i, s := range c.Searches {
		if s == "." {
			continue
		}
		s = strings.TrimSuffix(s, ".")
		for _, msg := range validation.IsDNS1123SubdomainWithUnderscore(s) {
			errs = append(errs, field.Invalid(fld.Child("searches").Index(i), s, msg))
		}
	}
	for i, o := range c.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(fld.Child("options").Index(i), "must not be empty"))
		}
	}
	return errs
}

// validatePodAnnotations checks the annotations that change how a pod runs.
func validatePodAnnotations(annotations map[string]string, spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v, mirror := annotations[corev1.MirrorPodAnnotationKey]; mirror && spec.NodeName == "" {
		errs = append(errs, field.Invalid(fld.Key(corev1.MirrorPodAnnotationKey), v, "must set spec.nodeName if mirror pod annotation is set"))
	}
	if v, ok := annotations[corev1.PodDeletionCost]; ok {
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			errs = append(errs, field.Invalid(fld.Key(corev1.PodDeletionCost), v, "must be a 32bit integer"))
		}
	}
	for k, v := range annotations {
		if k == corev1.SeccompPodAnnotationKey || strings.HasPrefix(k, corev1.SeccompContainerAnnotationKeyPrefix) {
			errs = append(errs, validateSeccompAnnotation(v, fld.Child(k))...)
		}
		if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			name := strings.TrimPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)
			if !hasContainer(spec, name) {
				errs = append(errs, field.Invalid(fld.Key(k), name, "container not found"))
			}
			if v != "" && v != corev1.DeprecatedAppArmorBetaProfileRuntimeDefault && v != corev1.DeprecatedAppArmorBetaProfileNameUnconfined &&
				!strings.HasPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix) {
				errs = append(errs, field.Invalid(fld.Key(k), v, fmt.Sprintf("invalid AppArmor profile name: %q", v)))
			}
		}
	}
	return errs
}

func validateSeccompAnnotation(p string, fld *field.Path) field.ErrorList {
	switch {
	case p == corev1.SeccompProfileRuntimeDefault || p == corev1.DeprecatedSeccompProfileDockerDefault || p == corev1.SeccompProfileNameUnconfined:
		return nil
	case strings.HasPrefix(p, corev1.SeccompLocalhostProfileNamePrefix):
		return localDescendingPath(strings.TrimPrefix(p, corev1.SeccompLocalhostProfileNamePrefix), fld)
	}
	return field.ErrorList{field.Invalid(fld, p, "must be a valid seccomp profile")}
}

func hasContainer(spec *corev1.PodSpec, name string) bool {
	for _, c := range spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

func dns1123Label(value string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		errs = append(errs, field.Invalid(fld, value, msg))
	}
	return errs
}

// DNS1123Label checks a DNS label (container, port and volume names).
func DNS1123Label(value string, fld *field.Path) field.ErrorList { return dns1123Label(value, fld) }

func dns1123Subdomain(value string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(value) {
		errs = append(errs, field.Invalid(fld, value, msg))
	}
	return errs
}

// DNS1123Subdomain checks a DNS subdomain (host names, external names).
func DNS1123Subdomain(value string, fld *field.Path) field.ErrorList {
	return dns1123Subdomain(value, fld)
}

func qualifiedName(value string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(value) {
		errs = append(errs, field.Invalid(fld, value, msg))
	}
	return errs
}

// QualifiedName checks a qualified name (condition types, appProtocol).
func QualifiedName(value string, fld *field.Path) field.ErrorList { return qualifiedName(value, fld) }

func nonNegative(v int64, fld *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(v, fld)
}
