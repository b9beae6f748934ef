package plugintest

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Node makes a node with labels; kubernetes.io/hostname is its name unless the
// labels say otherwise.
func Node(name string, labels map[string]string) *corev1.Node {
	l := map[string]string{corev1.LabelHostname: name}
	for k, v := range labels {
		l[k] = v
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// NodeInfos puts each pod on the node its spec.nodeName names; pods on no listed
// node are dropped.
func NodeInfos(nodes []*corev1.Node, pods []*corev1.Pod) []*fw.NodeInfo {
	byName := map[string]*fw.NodeInfo{}
	out := make([]*fw.NodeInfo, 0, len(nodes))
	for _, n := range nodes {
		ni := fw.NewNodeInfo()
		ni.SetNode(n)
		byName[n.Name] = ni
		out = append(out, ni)
	}
	for _, p := range pods {
		if ni := byName[p.Spec.NodeName]; ni != nil {
			ni.AddPodInfo(fw.NewPodInfo(p))
		}
	}
	return out
}

// PodWrapper builds a pod step by step.
type PodWrapper struct{ corev1.Pod }

// Pod starts a pod in a namespace; its UID is namespace/name.
func Pod(namespace, name string) *PodWrapper {
	return &PodWrapper{corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(namespace + "/" + name)}}}
}

// Obj is the pod built.
func (w *PodWrapper) Obj() *corev1.Pod { return &w.Pod }

// Label sets a label.
func (w *PodWrapper) Label(k, v string) *PodWrapper {
	if w.Labels == nil {
		w.Labels = map[string]string{}
	}
	w.Labels[k] = v
	return w
}

// On assigns the pod to a node.
func (w *PodWrapper) On(node string) *PodWrapper {
	w.Spec.NodeName = node
	return w
}

// Terminating marks the pod as being deleted.
func (w *PodWrapper) Terminating() *PodWrapper {
	now := metav1.Now()
	w.DeletionTimestamp = &now
	return w
}

// NodeSelector sets spec.nodeSelector.
func (w *PodWrapper) NodeSelector(s map[string]string) *PodWrapper {
	w.Spec.NodeSelector = s
	return w
}

// Toleration adds a toleration of key=value for every effect.
func (w *PodWrapper) Toleration(key, value string) *PodWrapper {
	w.Spec.Tolerations = append(w.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpEqual, Value: value})
	return w
}

// OwnedBy sets a controller owner reference.
func (w *PodWrapper) OwnedBy(apiVersion, kind, name string) *PodWrapper {
	yes := true
	w.OwnerReferences = append(w.OwnerReferences, metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(name), Controller: &yes})
	return w
}

func (w *PodWrapper) affinity() *corev1.Affinity {
	if w.Spec.Affinity == nil {
		w.Spec.Affinity = &corev1.Affinity{}
	}
	return w.Spec.Affinity
}

func (w *PodWrapper) podAffinity() *corev1.PodAffinity {
	a := w.affinity()
	if a.PodAffinity == nil {
		a.PodAffinity = &corev1.PodAffinity{}
	}
	return a.PodAffinity
}

func (w *PodWrapper) podAntiAffinity() *corev1.PodAntiAffinity {
	a := w.affinity()
	if a.PodAntiAffinity == nil {
		a.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	return a.PodAntiAffinity
}

// RequiredAffinity adds a required pod affinity term.
func (w *PodWrapper) RequiredAffinity(t corev1.PodAffinityTerm) *PodWrapper {
	a := w.podAffinity()
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return w
}

// RequiredAntiAffinity adds a required pod anti-affinity term.
func (w *PodWrapper) RequiredAntiAffinity(t corev1.PodAffinityTerm) *PodWrapper {
	a := w.podAntiAffinity()
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return w
}

// PreferredAffinity adds a preferred pod affinity term.
func (w *PodWrapper) PreferredAffinity(weight int32, t corev1.PodAffinityTerm) *PodWrapper {
	a := w.podAffinity()
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	return w
}

// PreferredAntiAffinity adds a preferred pod anti-affinity term.
func (w *PodWrapper) PreferredAntiAffinity(weight int32, t corev1.PodAffinityTerm) *PodWrapper {
	a := w.podAntiAffinity()
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	return w
}

// Spread adds a topology spread constraint selecting pods with the labels.
func (w *PodWrapper) Spread(maxSkew int32, key string, when corev1.UnsatisfiableConstraintAction, matchLabels map[string]string) *PodWrapper {
	return w.SpreadConstraint(corev1.TopologySpreadConstraint{MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: when,
		LabelSelector: &metav1.LabelSelector{MatchLabels: matchLabels}})
}

// SpreadConstraint adds a topology spread constraint as given.
func (w *PodWrapper) SpreadConstraint(c corev1.TopologySpreadConstraint) *PodWrapper {
	w.Spec.TopologySpreadConstraints = append(w.Spec.TopologySpreadConstraints, c)
	return w
}

// Term is a pod affinity term over pods with the labels, in the pod's namespace.
func Term(topologyKey string, matchLabels map[string]string) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{TopologyKey: topologyKey, LabelSelector: &metav1.LabelSelector{MatchLabels: matchLabels}}
}
