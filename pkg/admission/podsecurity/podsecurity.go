// Package podsecurity is upstream's PodSecurity admission plugin: the Pod
// Security Standards (privileged, baseline, restricted) a namespace selects
// with its pod-security.kubernetes.io/enforce, audit and warn labels. Pods
// that break the enforce level are refused; pods and pod templates that break
// the warn level get a warning, the audit level an audit annotation. The
// checks themselves are k8s.io/pod-security-admission's policy package, the
// library upstream's plugin is built on.
package podsecurity

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "PodSecurity"

// MaxPodsChecked bounds how many existing pods a namespace's new enforce
// level is tried against, as upstream's default.
const MaxPodsChecked = 3000

var (
	namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	podsGVR       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	podsGR        = podsGVR.GroupResource()
	namespacesGR  = namespacesGVR.GroupResource()
)

// templated are the resources whose pod templates are warned and audited
// about (never refused: their pods are, when they are created).
var templated = map[schema.GroupResource]bool{
	{Resource: "podtemplates"}:                true,
	{Resource: "replicationcontrollers"}:      true,
	{Group: "apps", Resource: "replicasets"}:  true,
	{Group: "apps", Resource: "deployments"}:  true,
	{Group: "apps", Resource: "statefulsets"}: true,
	{Group: "apps", Resource: "daemonsets"}:   true,
	{Group: "batch", Resource: "jobs"}:        true,
	{Group: "batch", Resource: "cronjobs"}:    true,
}

// ignoredPodSubresources never change what the checks read.
var ignoredPodSubresources = map[string]bool{
	"exec": true, "attach": true, "binding": true, "eviction": true, "log": true,
	"portforward": true, "proxy": true, "status": true,
}

// Evaluator checks a pod against a level and version.
type Evaluator interface {
	EvaluatePod(lv psapi.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []policy.CheckResult
}

// Plugin is the PodSecurity plugin.
type Plugin struct {
	admission.Handler
	objects   admission.Objects
	evaluator Evaluator
	// defaults apply where a namespace has no label (upstream's default
	// configuration: privileged at the latest version, for all three modes).
	defaults psapi.Policy
}

var (
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin reading namespaces and pods from objects.
func New(objects admission.Objects) (*Plugin, error) {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("pod security checks: %w", err)
	}
	privileged := psapi.LevelVersion{Level: psapi.LevelPrivileged, Version: psapi.LatestVersion()}
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update), objects: objects, evaluator: ev,
		defaults: psapi.Policy{Enforce: privileged, Audit: privileged, Warn: privileged}}, nil
}

// HandlesResource: namespaces, pods and the pod templates of workloads.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	switch {
	case t.Resource == namespacesGR:
		return t.Subresource == ""
	case t.Resource == podsGR:
		return !ignoredPodSubresources[t.Subresource]
	}
	return templated[t.Resource] && t.Subresource == ""
}

// Validate checks the request against its namespace's policy.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	switch a.GroupResource() {
	case namespacesGR:
		return p.validateNamespace(ctx, a)
	case podsGR:
		return p.validatePod(ctx, a)
	}
	return p.validateTemplate(ctx, a)
}

// policyOf is the policy of the request's namespace.
func (p *Plugin) policyOf(ctx context.Context, a *admission.Attributes) (psapi.Policy, field.ErrorList, error) {
	obj, err := p.objects.Get(ctx, namespacesGVR, "", a.Namespace)
	if err != nil {
		return psapi.Policy{}, nil, err
	}
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return psapi.Policy{}, nil, fmt.Errorf("namespace %q is a %T", a.Namespace, obj)
	}
	pol, errs := psapi.PolicyToEvaluate(ns.Labels, p.defaults)
	return pol, errs, nil
}

func (p *Plugin) validateNamespace(ctx context.Context, a *admission.Attributes) error {
	ns, ok := a.Object.(*corev1.Namespace)
	if !ok {
		return apierrors.NewBadRequest("failed to decode namespace")
	}
	newPolicy, newErrs := psapi.PolicyToEvaluate(ns.Labels, p.defaults)
	if a.Operation == admission.Create {
		if len(newErrs) > 0 {
			return apierrors.NewInvalid(a.Kind.GroupKind(), a.ObjectName(), newErrs)
		}
		return nil
	}
	old, ok := a.OldObject.(*corev1.Namespace)
	if !ok {
		return apierrors.NewBadRequest("failed to decode  old namespace")
	}
	oldPolicy, oldErrs := psapi.PolicyToEvaluate(old.Labels, p.defaults)
	if len(newErrs) > 0 && (len(oldErrs) == 0 || fmt.Sprint(newErrs) != fmt.Sprint(oldErrs)) {
		return apierrors.NewInvalid(a.Kind.GroupKind(), a.ObjectName(), newErrs)
	}
	// Existing pods are tried only when the enforce level got stricter.
	if newPolicy.Enforce == oldPolicy.Enforce || newPolicy.Enforce.Level == psapi.LevelPrivileged ||
		newPolicy.Enforce.Version == oldPolicy.Enforce.Version && psapi.CompareLevels(newPolicy.Enforce.Level, oldPolicy.Enforce.Level) < 1 {
		return nil
	}
	for _, w := range p.existingPodWarnings(ctx, ns.Name, newPolicy.Enforce) {
		a.AddWarning(w)
	}
	return nil
}

// existingPodWarnings says which pods of namespace break a new enforce level,
// one warning per distinct reason, naming the first such pod.
func (p *Plugin) existingPodWarnings(ctx context.Context, namespace string, enforce psapi.LevelVersion) []string {
	objs, err := p.objects.List(ctx, podsGVR, namespace)
	if err != nil {
		return []string{"failed to list pods while checking new PodSecurity enforce level"}
	}
	type seen struct {
		name  string
		count int
	}
	byReason := map[string]*seen{}
	var reasons []string
	checked := 0
	for _, o := range objs {
		pod, ok := o.(*corev1.Pod)
		if !ok {
			continue
		}
		if checked == MaxPodsChecked {
			break
		}
		checked++
		r := policy.AggregateCheckResults(p.evaluator.EvaluatePod(enforce, &pod.ObjectMeta, &pod.Spec))
		if r.Allowed {
			continue
		}
		reason := r.ForbiddenReason()
		s := byReason[reason]
		if s == nil {
			s = &seen{name: pod.Name}
			byReason[reason] = s
			reasons = append(reasons, reason)
		} else if pod.Name < s.name {
			s.name = pod.Name
		}
		s.count++
	}
	var out []string
	if checked < len(objs) {
		out = append(out, fmt.Sprintf("new PodSecurity enforce level only checked against the first %d of %d existing pods", checked, len(objs)))
	}
	if len(reasons) == 0 {
		return out
	}
	out = append(out, fmt.Sprintf("existing pods in namespace %q violate the new PodSecurity enforce level %q", namespace, enforce.String()))
	var per []string
	for _, reason := range reasons {
		s := byReason[reason]
		switch s.count {
		case 1:
			per = append(per, fmt.Sprintf("%s: %s", s.name, reason))
		case 2:
			per = append(per, fmt.Sprintf("%s (and 1 other pod): %s", s.name, reason))
		default:
			per = append(per, fmt.Sprintf("%s (and %d other pods): %s", s.name, s.count-1, reason))
		}
	}
	sort.Strings(per)
	return append(out, per...)
}

func (p *Plugin) validatePod(ctx context.Context, a *admission.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return apierrors.NewBadRequest("failed to decode pod")
	}
	pol, polErrs, err := p.policyOf(ctx, a)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("failed to lookup namespace %q", a.Namespace))
	}
	if len(polErrs) == 0 && pol.FullyPrivileged() {
		return nil
	}
	if a.Operation == admission.Update {
		old, ok := a.OldObject.(*corev1.Pod)
		if !ok {
			return apierrors.NewBadRequest("failed to decode old pod")
		}
		if !significantUpdate(pod, old) {
			return nil
		}
	}
	return p.evaluate(a, pol, polErrs, &pod.ObjectMeta, &pod.Spec, true)
}

func (p *Plugin) validateTemplate(ctx context.Context, a *admission.Attributes) error {
	pol, polErrs, err := p.policyOf(ctx, a)
	if err != nil {
		a.AddAnnotation("pod-security.kubernetes.io/error", fmt.Sprintf("failed to lookup namespace %q: %v", a.Namespace, err))
		return nil
	}
	if len(polErrs) == 0 && pol.Warn.Level == psapi.LevelPrivileged && pol.Audit.Level == psapi.LevelPrivileged {
		return nil
	}
	tmpl := templateOf(a.Object)
	if tmpl == nil {
		return nil
	}
	return p.evaluate(a, pol, polErrs, &tmpl.ObjectMeta, &tmpl.Spec, false)
}

// evaluate refuses (when enforce) what breaks the enforce level, and warns
// and annotates for the warn and audit levels.
func (p *Plugin) evaluate(a *admission.Attributes, pol psapi.Policy, polErrs field.ErrorList, meta *metav1.ObjectMeta, spec *corev1.PodSpec, enforce bool) error {
	if len(polErrs) > 0 {
		a.AddAnnotation("pod-security.kubernetes.io/error", fmt.Sprintf("Failed to parse policy: %v", polErrs.ToAggregate()))
	}
	results := map[psapi.LevelVersion]policy.AggregateCheckResult{}
	check := func(lv psapi.LevelVersion) policy.AggregateCheckResult {
		if r, ok := results[lv]; ok {
			return r
		}
		r := policy.AggregateCheckResults(p.evaluator.EvaluatePod(lv, meta, spec))
		results[lv] = r
		return r
	}
	if enforce {
		a.AddAnnotation(psapi.EnforcedPolicyAnnotationKey, pol.Enforce.String())
		if r := check(pol.Enforce); !r.Allowed {
			return apierrors.NewForbidden(a.GroupResource(), a.Name,
				fmt.Errorf("violates PodSecurity %q: %s", pol.Enforce.String(), r.ForbiddenDetail()))
		}
	}
	if r := check(pol.Audit); !r.Allowed {
		a.AddAnnotation(psapi.AuditViolationsAnnotationKey, fmt.Sprintf("would violate PodSecurity %q: %s", pol.Audit.String(), r.ForbiddenDetail()))
	}
	if r := check(pol.Warn); !r.Allowed {
		a.AddWarning(fmt.Sprintf("would violate PodSecurity %q: %s", pol.Warn.String(), r.ForbiddenDetail()))
	}
	return nil
}

// significantUpdate: only a new image (or a new ephemeral container) can
// change what the checks say about a running pod.
func significantUpdate(pod, old *corev1.Pod) bool {
	if len(pod.Spec.Containers) != len(old.Spec.Containers) || len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return true
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Image != old.Spec.Containers[i].Image {
			return true
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Image != old.Spec.InitContainers[i].Image {
			return true
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		found := false
		for _, oc := range old.Spec.EphemeralContainers {
			if oc.Name == c.Name {
				found = true
				if oc.Image != c.Image {
					return true
				}
			}
		}
		if !found {
			return true
		}
	}
	return false
}

// templateOf is the pod template of a workload, or nil.
func templateOf(obj runtime.Object) *corev1.PodTemplateSpec {
	switch o := obj.(type) {
	case *corev1.PodTemplate:
		return &o.Template
	case *corev1.ReplicationController:
		return o.Spec.Template
	case *appsv1.ReplicaSet:
		return &o.Spec.Template
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.DaemonSet:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	case *batchv1.Job:
		return &o.Spec.Template
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template
	}
	return nil
}
