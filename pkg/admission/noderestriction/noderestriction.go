// Package noderestriction is upstream's NodeRestriction admission plugin: what
// the Node authorizer lets a node write, this narrows to the node's own
// objects. A node may create and update only its own Node (without touching
// its taints, owner references or the labels kubelets may not set), renew only
// its own Lease, update the status of and delete only the pods bound to it,
// create only mirror pods, and request service account tokens only bound to a
// pod on it. Requests of anyone but a node pass untouched.
package noderestriction

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/node"
)

// Lookup reads the objects some checks compare with.
type Lookup interface {
	Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	Node(ctx context.Context, name string) (*corev1.Node, error)
}

// Name is the plugin's name.
const Name = "NodeRestriction"

// Plugin is the NodeRestriction plugin.
type Plugin struct {
	admission.Handler
	lookup Lookup
}

var (
	_ admission.MutationInterface = &Plugin{}
	_ admission.ResourceSelector  = &Plugin{}
)

// HandlesResource: what a node writes.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	switch t.Resource.Group + "/" + t.Resource.Resource {
	case "/pods", "/nodes", "/persistentvolumeclaims", "/serviceaccounts", "coordination.k8s.io/leases", "storage.k8s.io/csinodes":
		return true
	}
	return false
}

// ObjectsLookup reads pods and nodes from the API server's objects.
type ObjectsLookup struct{ Objects admission.Objects }

var (
	podsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodesGVR = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

// Pod implements Lookup.
func (l ObjectsLookup) Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	obj, err := l.Objects.Get(ctx, podsGVR, namespace, name)
	if err != nil {
		return nil, err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("pod %s/%s is a %T", namespace, name, obj)
	}
	return pod, nil
}

// Node implements Lookup.
func (l ObjectsLookup) Node(ctx context.Context, name string) (*corev1.Node, error) {
	obj, err := l.Objects.Get(ctx, nodesGVR, "", name)
	if err != nil {
		return nil, err
	}
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil, fmt.Errorf("node %s is a %T", name, obj)
	}
	return n, nil
}

// New returns the plugin reading pods and nodes through lookup.
func New(lookup Lookup) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Delete), lookup: lookup}
}

// Admit returns nil when the write may go on, or a 403 worded as upstream's.
// Only requests of node users reach the checks; others return at once.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	return admit(ctx, a, p.lookup)
}

func admit(ctx context.Context, a *admission.Attributes, lookup Lookup) error {
	nodeName, isNode := node.Identity(a.User)
	if !isNode {
		return nil
	}
	if nodeName == "" {
		return a.Forbidden(fmt.Errorf("could not determine node from user %q", a.User.Name))
	}
	switch a.Resource.Group + "/" + a.Resource.Resource {
	case "/pods":
		switch a.Subresource {
		case "":
			return admitPod(ctx, nodeName, a, lookup)
		case "status":
			return admitPodStatus(nodeName, a)
		case "eviction":
			return admitEviction(ctx, nodeName, a, lookup)
		}
		return a.Forbidden(fmt.Errorf("unexpected pod subresource %q, only 'status' and 'eviction' are allowed", a.Subresource))
	case "/nodes":
		return admitNode(nodeName, a)
	case "/persistentvolumeclaims":
		if a.Subresource != "status" {
			return a.Forbidden(errors.New("may only update PVC status"))
		}
		return admitPVCStatus(nodeName, a)
	case "/serviceaccounts":
		return admitTokenRequest(ctx, nodeName, a, lookup)
	case "coordination.k8s.io/leases":
		return admitLease(nodeName, a)
	case "storage.k8s.io/csinodes":
		return admitCSINode(nodeName, a)
	}
	return nil
}

func admitPod(ctx context.Context, nodeName string, a *admission.Attributes, lookup Lookup) error {
	switch a.Operation {
	case admission.Create:
		return admitMirrorPod(ctx, nodeName, a, lookup)
	case admission.Delete:
		pod, err := lookup.Pod(ctx, a.Namespace, a.Name)
		if apierrors.IsNotFound(err) {
			return err
		}
		if err != nil {
			return a.Forbidden(err)
		}
		if pod.Spec.NodeName != nodeName {
			return a.Forbidden(fmt.Errorf("node %q can only delete pods with spec.nodeName set to itself", nodeName))
		}
		return nil
	}
	return a.Forbidden(fmt.Errorf("unexpected operation %q, node %q can only create and delete mirror pods", a.Operation, nodeName))
}

// admitMirrorPod: a node creates only mirror pods of its own static pods,
// owned by its Node and referencing no API object.
func admitMirrorPod(ctx context.Context, nodeName string, a *admission.Attributes, lookup Lookup) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return a.Forbidden(fmt.Errorf("unexpected type %T", a.Object))
	}
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; !mirror {
		return a.Forbidden(fmt.Errorf("pod does not have %q annotation, node %q can only create mirror pods", corev1.MirrorPodAnnotationKey, nodeName))
	}
	if pod.Spec.NodeName != nodeName {
		return a.Forbidden(fmt.Errorf("node %q can only create pods with spec.nodeName set to itself", nodeName))
	}
	switch len(pod.OwnerReferences) {
	case 0:
		return a.Forbidden(fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	case 1:
	default:
		return a.Forbidden(fmt.Errorf("node %q can only create pods with a single owner reference set to itself", nodeName))
	}
	owner := pod.OwnerReferences[0]
	if owner.APIVersion != "v1" || owner.Kind != "Node" || owner.Name != nodeName {
		return a.Forbidden(fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	}
	if owner.Controller == nil || !*owner.Controller {
		return a.Forbidden(fmt.Errorf("node %q can only create pods with a controller owner reference set to itself", nodeName))
	}
	if owner.BlockOwnerDeletion != nil && *owner.BlockOwnerDeletion {
		return a.Forbidden(fmt.Errorf("node %q must not set blockOwnerDeletion on an owner reference", nodeName))
	}
	n, err := lookup.Node(ctx, nodeName)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return a.Forbidden(fmt.Errorf("error looking up node %s to verify uid: %v", nodeName, err))
	}
	if owner.UID != n.UID {
		return a.Forbidden(fmt.Errorf("node %s UID mismatch: expected %s got %s", nodeName, owner.UID, n.UID))
	}
	if what := apiObjectReference(pod); what != "" {
		return a.Forbidden(fmt.Errorf("node %q can not create pods that reference %s", nodeName, what))
	}
	return nil
}

// apiObjectReference names the kind of API object a pod refers to, if any.
func apiObjectReference(pod *corev1.Pod) string {
	if pod.Spec.ServiceAccountName != "" {
		return "serviceaccounts"
	}
	if len(pod.Spec.ImagePullSecrets) > 0 {
		return "secrets"
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.Secret != nil:
			return "secrets"
		case v.ConfigMap != nil:
			return "configmaps"
		case v.PersistentVolumeClaim != nil, v.Ephemeral != nil:
			return "persistentvolumeclaims"
		case v.CSI != nil:
			return "csidrivers"
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				switch {
				case s.Secret != nil:
					return "secrets"
				case s.ConfigMap != nil:
					return "configmaps"
				case s.ServiceAccountToken != nil:
					return "serviceaccounts"
				case s.ClusterTrustBundle != nil:
					return "clustertrustbundles"
				}
			}
		}
	}
	containers := append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range containers {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				return "secrets"
			}
			if e.ConfigMapRef != nil {
				return "configmaps"
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				return "secrets"
			}
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				return "configmaps"
			}
		}
	}
	if len(pod.Spec.ResourceClaims) > 0 {
		return "resourceclaims"
	}
	return ""
}

func admitPodStatus(nodeName string, a *admission.Attributes) error {
	if a.Operation != admission.Update {
		return a.Forbidden(fmt.Errorf("unexpected operation %q", a.Operation))
	}
	old, ok := a.OldObject.(*corev1.Pod)
	if !ok {
		return a.Forbidden(fmt.Errorf("unexpected type %T", a.OldObject))
	}
	if old.Spec.NodeName != nodeName {
		return a.Forbidden(fmt.Errorf("node %q can only update pod status for pods with spec.nodeName set to itself", nodeName))
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return a.Forbidden(fmt.Errorf("unexpected type %T", a.Object))
	}
	if !equality.Semantic.DeepEqual(labelsOrEmpty(old.Labels), labelsOrEmpty(pod.Labels)) {
		return a.Forbidden(fmt.Errorf("node %q cannot update labels through pod status", nodeName))
	}
	if !equality.Semantic.DeepEqual(old.Status.ResourceClaimStatuses, pod.Status.ResourceClaimStatuses) {
		return a.Forbidden(fmt.Errorf("node %q cannot update resource claim statues", nodeName))
	}
	if !equality.Semantic.DeepEqual(old.Status.ExtendedResourceClaimStatus, pod.Status.ExtendedResourceClaimStatus) {
		return a.Forbidden(fmt.Errorf("node %q cannot update extended resource claim status", nodeName))
	}
	return nil
}

func labelsOrEmpty(l map[string]string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return l
}

func admitEviction(ctx context.Context, nodeName string, a *admission.Attributes, lookup Lookup) error {
	if a.Operation != admission.Create {
		return a.Forbidden(fmt.Errorf("unexpected operation %s", a.Operation))
	}
	name := a.Name
	if name == "" {
		if m, err := meta.Accessor(a.Object); err == nil {
			name = m.GetName()
		}
		if name == "" {
			return a.Forbidden(errors.New("could not determine pod from request data"))
		}
	}
	pod, err := lookup.Pod(ctx, a.Namespace, name)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return a.Forbidden(err)
	}
	if pod.Spec.NodeName != nodeName {
		return a.Forbidden(fmt.Errorf("node %s can only evict pods with spec.nodeName set to itself", nodeName))
	}
	return nil
}

func admitPVCStatus(nodeName string, a *admission.Attributes) error {
	if a.Operation != admission.Update {
		return a.Forbidden(fmt.Errorf("unexpected operation %q", a.Operation))
	}
	old, ok1 := a.OldObject.(*corev1.PersistentVolumeClaim)
	pvc, ok2 := a.Object.(*corev1.PersistentVolumeClaim)
	if !ok1 || !ok2 {
		return a.Forbidden(fmt.Errorf("unexpected type %T", a.Object))
	}
	// A node may only report the size it grew a volume to and the conditions.
	o, n := old.DeepCopy(), pvc.DeepCopy()
	o.Status.Capacity, n.Status.Capacity = nil, nil
	o.Status.Conditions, n.Status.Conditions = nil, nil
	o.Status.AllocatedResourceStatuses, n.Status.AllocatedResourceStatuses = nil, nil
	o.Status.AllocatedResources, n.Status.AllocatedResources = nil, nil
	o.ResourceVersion, n.ResourceVersion = "", ""
	o.ManagedFields, n.ManagedFields = nil, nil
	if !equality.Semantic.DeepEqual(o, n) {
		return a.Forbidden(fmt.Errorf("node %q is not allowed to update fields other than status.quantity and status.conditions", nodeName))
	}
	return nil
}

func admitNode(nodeName string, a *admission.Attributes) error {
	requested := a.Name
	if a.Operation == admission.Create {
		if m, err := meta.Accessor(a.Object); err == nil {
			requested = m.GetName()
		}
	}
	if requested != nodeName {
		return a.Forbidden(fmt.Errorf("node %q is not allowed to modify node %q", nodeName, requested))
	}
	switch a.Operation {
	case admission.Create:
		n, ok := a.Object.(*corev1.Node)
		if !ok {
			return a.Forbidden(fmt.Errorf("unexpected type %T", a.Object))
		}
		if n.Spec.ConfigSource != nil {
			return a.Forbidden(fmt.Errorf("node %q is not allowed to create pods with a non-nil configSource", nodeName))
		}
		if bad := forbiddenLabels(modifiedLabels(n.Labels, nil)); len(bad) > 0 {
			return a.Forbidden(fmt.Errorf("node %q is not allowed to set the following labels: %s", nodeName, strings.Join(bad, ", ")))
		}
	case admission.Update:
		n, ok1 := a.Object.(*corev1.Node)
		old, ok2 := a.OldObject.(*corev1.Node)
		if !ok1 || !ok2 {
			return a.Forbidden(fmt.Errorf("unexpected type %T", a.Object))
		}
		if n.Spec.ConfigSource != nil && !equality.Semantic.DeepEqual(n.Spec.ConfigSource, old.Spec.ConfigSource) {
			return a.Forbidden(fmt.Errorf("node %q is not allowed to update configSource to a new non-nil configSource", nodeName))
		}
		if !equality.Semantic.DeepEqual(n.Spec.Taints, old.Spec.Taints) {
			return a.Forbidden(fmt.Errorf("node %q is not allowed to modify taints", nodeName))
		}
		if !equality.Semantic.DeepEqual(n.OwnerReferences, old.OwnerReferences) {
			return a.Forbidden(fmt.Errorf("node %q is not allowed to modify ownerReferences", nodeName))
		}
		if bad := forbiddenLabels(modifiedLabels(n.Labels, old.Labels)); len(bad) > 0 {
			return a.Forbidden(fmt.Errorf("is not allowed to modify labels: %s", strings.Join(bad, ", ")))
		}
	}
	return nil
}

func modifiedLabels(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			out = append(out, k)
		}
	}
	for k, v := range b {
		if w, ok := a[k]; (!ok || v != w) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// kubeletLabels are the labels a kubelet may set on its own Node.
var kubeletLabels = map[string]bool{
	corev1.LabelHostname: true, corev1.LabelTopologyZone: true, corev1.LabelTopologyRegion: true,
	corev1.LabelFailureDomainBetaZone: true, corev1.LabelFailureDomainBetaRegion: true,
	corev1.LabelInstanceType: true, corev1.LabelInstanceTypeStable: true,
	corev1.LabelOSStable: true, corev1.LabelArchStable: true,
	"beta.kubernetes.io/os": true, "beta.kubernetes.io/arch": true,
}

// forbiddenLabels are the labels among keys a node may not set: those under
// node-restriction.kubernetes.io/, and those under kubernetes.io or k8s.io
// that are not kubelet labels (kubelet.kubernetes.io/, node.kubernetes.io/ and
// the well-known ones).
func forbiddenLabels(keys []string) []string {
	var out []string
	for _, k := range keys {
		ns := labelNamespace(k)
		if ns == corev1.LabelNamespaceNodeRestriction || strings.HasSuffix(ns, "."+corev1.LabelNamespaceNodeRestriction) {
			out = append(out, k)
			continue
		}
		if isKubernetesLabel(ns) && !isKubeletLabel(k, ns) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func labelNamespace(key string) string {
	if ns, _, ok := strings.Cut(key, "/"); ok {
		return ns
	}
	return ""
}

func isKubernetesLabel(ns string) bool {
	return ns == "kubernetes.io" || strings.HasSuffix(ns, ".kubernetes.io") || ns == "k8s.io" || strings.HasSuffix(ns, ".k8s.io")
}

func isKubeletLabel(key, ns string) bool {
	if kubeletLabels[key] {
		return true
	}
	for _, allowed := range []string{corev1.LabelNamespaceSuffixKubelet, corev1.LabelNamespaceSuffixNode} {
		if ns == allowed || strings.HasSuffix(ns, "."+allowed) {
			return true
		}
	}
	return false
}

// admitTokenRequest: a node asks for tokens bound to a pod of its own.
func admitTokenRequest(ctx context.Context, nodeName string, a *admission.Attributes, lookup Lookup) error {
	if a.Operation != admission.Create || a.Subresource != "token" {
		return nil
	}
	tr, ok := a.Object.(*authenticationv1.TokenRequest)
	if !ok {
		return a.Forbidden(fmt.Errorf("unexpected type %T", a.Object))
	}
	ref := tr.Spec.BoundObjectRef
	if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Pod" || ref.Name == "" {
		return a.Forbidden(errors.New("node requested token not bound to a pod"))
	}
	if ref.UID == "" {
		return a.Forbidden(errors.New("node requested token with a pod binding without a uid"))
	}
	pod, err := lookup.Pod(ctx, a.Namespace, ref.Name)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return a.Forbidden(err)
	}
	if ref.UID != pod.UID {
		return a.Forbidden(fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	if pod.Spec.NodeName != nodeName {
		return a.Forbidden(errors.New("node requested token bound to a pod scheduled on a different node"))
	}
	return nil
}

func admitLease(nodeName string, a *admission.Attributes) error {
	if a.Namespace != corev1.NamespaceNodeLease {
		return a.Forbidden(fmt.Errorf("can only access leases in the %q system namespace", corev1.NamespaceNodeLease))
	}
	name := a.Name
	if a.Operation == admission.Create {
		l, ok := a.Object.(*coordinationv1.Lease)
		if !ok {
			return a.Forbidden(fmt.Errorf("unexpected type %T", a.Object))
		}
		name = l.Name
	}
	if name != nodeName {
		return a.Forbidden(errors.New("can only access node lease with the same name as the requesting node"))
	}
	return nil
}

func admitCSINode(nodeName string, a *admission.Attributes) error {
	name := a.Name
	if a.Operation == admission.Create {
		m, err := meta.Accessor(a.Object)
		if err != nil {
			return a.Forbidden(errors.New("unable to access the object name"))
		}
		name = m.GetName()
	}
	if name != nodeName {
		return a.Forbidden(errors.New("can only access CSINode with the same name as the requesting node"))
	}
	return nil
}
