package core

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Nodes is core/v1 nodes, stored under upstream's historical "minions" prefix.
func Nodes() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "nodes", Kind: "Node", SingularName: "node", ShortNames: []string{"no"},
		New:       func() runtime.Object { return &corev1.Node{} },
		NewList:   func() runtime.Object { return &corev1.NodeList{} },
		KeyPrefix: "minions",
		Status:    true,
		Strategy: nodeStrategy{&registry.Generic{
			Defaults:         defaultNode,
			Validation:       func(obj runtime.Object) field.ErrorList { return validateNode(obj.(*corev1.Node)) },
			UpdateValidation: validateNodeUpdate,
			StatusValidation: validateNodeUpdate,
			Create: func(obj runtime.Object) {
				node := obj.(*corev1.Node)
				node.Status.Config = nil
				addNotReadyTaint(node)
			},
			// A node agent creates its Node with status; updates keep status apart.
			NoStatusSplit: true,
			NoGeneration:  true,
		}},
		Subresources: []registry.Subresource{
			{Name: "proxy", Kind: corev1.SchemeGroupVersion.WithKind("NodeProxyOptions"), Verbs: []string{"create", "delete", "get", "patch", "update"}},
		},
		Fields: func(obj runtime.Object) map[string]string {
			return map[string]string{"spec.unschedulable": fmt.Sprint(obj.(*corev1.Node).Spec.Unschedulable)}
		},
		Table: nodeTable,
	}
}

// addNotReadyTaint is upstream's TaintNodesByCondition admission: a new node
// starts with the not-ready NoSchedule taint, so no pod lands on it before the
// node lifecycle controller has seen it Ready and removed the taint.
func addNotReadyTaint(node *corev1.Node) {
	t := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	for i := range node.Spec.Taints {
		if node.Spec.Taints[i].MatchTaint(&t) {
			return
		}
	}
	node.Spec.Taints = append(node.Spec.Taints, t)
}

// nodeStrategy lets status be set on create but not changed by main-resource updates.
type nodeStrategy struct{ *registry.Generic }

func (s nodeStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	s.Generic.PrepareForUpdate(ctx, obj, old)
	obj.(*corev1.Node).Status = old.(*corev1.Node).Status
}

func defaultNode(obj runtime.Object) {
	node := obj.(*corev1.Node)
	st := &node.Status
	if st.Allocatable == nil && st.Capacity != nil {
		st.Allocatable = corev1.ResourceList{}
		for k, v := range st.Capacity {
			st.Allocatable[k] = v.DeepCopy()
		}
	}
	roundList(st.Capacity)
	roundList(st.Allocatable)
	// podCIDR is the first of podCIDRs; the API keeps both.
	if node.Spec.PodCIDR != "" && (len(node.Spec.PodCIDRs) == 0 || node.Spec.PodCIDRs[0] != node.Spec.PodCIDR) {
		node.Spec.PodCIDRs = []string{node.Spec.PodCIDR}
	}
	if node.Spec.PodCIDR == "" && len(node.Spec.PodCIDRs) > 0 {
		node.Spec.PodCIDR = node.Spec.PodCIDRs[0]
	}
}

func validateNode(node *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateTaints(node.Spec.Taints, field.NewPath("metadata", "taints"))...)
	errs = append(errs, validateNodeResources(node)...)
	if len(node.Spec.PodCIDRs) > 0 {
		p := field.NewPath("spec", "podCIDRs")
		for i, c := range node.Spec.PodCIDRs {
			errs = append(errs, validation.IsValidCIDRForLegacyField(p.Index(i), c, false, nil)...)
		}
		if len(node.Spec.PodCIDRs) > 1 && !dualStackCIDRs(node.Spec.PodCIDRs) {
			errs = append(errs, field.Invalid(p, node.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
		}
	}
	return errs
}

func dualStackCIDRs(cidrs []string) bool {
	if len(cidrs) != 2 {
		return false
	}
	first := func(c string) string { ip, _, _ := strings.Cut(c, "/"); return ip }
	return dualStack([]string{first(cidrs[0]), first(cidrs[1])})
}

func validateNodeResources(node *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	for _, n := range sortedResourceNames(node.Status.Capacity) {
		errs = append(errs, podspec.ValidateQuantity(n, node.Status.Capacity[n], field.NewPath("status", "capacity", string(n)))...)
	}
	for _, n := range sortedResourceNames(node.Status.Allocatable) {
		errs = append(errs, podspec.ValidateQuantity(n, node.Status.Allocatable[n], field.NewPath("status", "allocatable", string(n)))...)
	}
	return errs
}

func validateTaints(taints []corev1.Taint, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.TaintEffect]map[string]bool{}
	for i, t := range taints {
		p := fld.Index(i)
		errs = append(errs, metavalidation.ValidateLabelName(t.Key, p.Child("key"))...)
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) != 0 {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, strings.Join(msgs, ";")))
		}
		errs = append(errs, podspec.ValidateTaintEffect(t.Effect, false, p.Child("effect"))...)
		if seen[t.Effect][t.Key] {
			dup := field.Duplicate(p, podspec.GoNamed(t))
			dup.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, dup)
			continue
		}
		if seen[t.Effect] == nil {
			seen[t.Effect] = map[string]bool{}
		}
		seen[t.Effect][t.Key] = true
	}
	return errs
}

// validateNodeUpdate: podCIDRs and providerID may only be set once.
func validateNodeUpdate(obj, old runtime.Object) field.ErrorList {
	node, oldNode := obj.(*corev1.Node), old.(*corev1.Node)
	errs := validateNodeResources(node)
	seen := map[corev1.NodeAddress]bool{}
	for i, a := range node.Status.Addresses {
		if seen[a] {
			errs = append(errs, field.Duplicate(field.NewPath("status", "addresses").Index(i), podspec.GoNamed(a)))
		}
		seen[a] = true
	}
	const cidrMsg = "node updates may not change podCIDR except from \"\" to valid"
	if len(oldNode.Spec.PodCIDRs) > 0 {
		changed := len(oldNode.Spec.PodCIDRs) != len(node.Spec.PodCIDRs)
		for i := range oldNode.Spec.PodCIDRs {
			if !changed && oldNode.Spec.PodCIDRs[i] != node.Spec.PodCIDRs[i] {
				errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), cidrMsg))
			}
		}
		if changed {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), cidrMsg))
		}
	}
	if oldNode.Spec.ProviderID != "" && oldNode.Spec.ProviderID != node.Spec.ProviderID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	errs = append(errs, validateTaints(node.Spec.Taints, field.NewPath("metadata", "taints"))...)
	if node.Spec.DoNotUseExternalID != oldNode.Spec.DoNotUseExternalID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "externalID"), "may not be updated"))
	}
	return errs
}

var nodeTable = &registry.Table{
	Cols: []metav1.TableColumnDefinition{
		registry.NameColumn,
		registry.Col("Status", "string", "The status of the node", 0),
		registry.Col("Roles", "string", "The roles of the node", 0),
		registry.AgeColumn,
		registry.Col("Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"], 0),
		registry.Col("Internal-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"], 1),
		registry.Col("External-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"], 1),
		registry.Col("OS-Image", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"], 1),
		registry.Col("Kernel-Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"], 1),
		registry.Col("Container-Runtime", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"], 1),
	},
	Cells: func(obj runtime.Object) []interface{} {
		node := obj.(*corev1.Node)
		var status []string
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				if c.Status == corev1.ConditionTrue {
					status = []string{"Ready"}
				} else {
					status = []string{"NotReady"}
				}
			}
		}
		if len(status) == 0 {
			status = []string{"Unknown"}
		}
		if node.Spec.Unschedulable {
			status = append(status, "SchedulingDisabled")
		}
		roles := strings.Join(nodeRoles(node), ",")
		if roles == "" {
			roles = "<none>"
		}
		info := node.Status.NodeInfo
		orUnknown := func(s string) string {
			if s == "" {
				return "<unknown>"
			}
			return s
		}
		return []interface{}{node.Name, strings.Join(status, ","), roles, registry.Age(node.CreationTimestamp), info.KubeletVersion,
			nodeAddress(node, corev1.NodeInternalIP), nodeAddress(node, corev1.NodeExternalIP),
			orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion)}
	},
}

func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

// nodeRoles reads node-role.kubernetes.io/<role> labels and kubernetes.io/role.
func nodeRoles(node *corev1.Node) []string {
	set := map[string]bool{}
	for k, v := range node.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if role := strings.TrimPrefix(k, "node-role.kubernetes.io/"); role != "" {
				set[role] = true
			}
		case k == "kubernetes.io/role" && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}
