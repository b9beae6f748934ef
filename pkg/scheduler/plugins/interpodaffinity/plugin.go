// Package interpodaffinity is the InterPodAffinity plugin: a pod's required pod
// affinity and anti-affinity, and existing pods' required anti-affinity towards
// it, filter nodes by topology domain; preferred terms on both sides (and existing
// pods' required affinity, at hardPodAffinityWeight) score them.
//
// PreFilter and PreScore count matches per topology key and value; Filter and
// Score only look those counts up. Counts of the pods that match the incoming
// pod's terms are kept per node between cycles (matchcount), so that replicas of
// one workload recount only the nodes that changed since the previous one.
package interpodaffinity

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/matchcount"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.InterPodAffinity

// InterPodAffinity filters and scores nodes by the pods already in their
// topology domains.
type InterPodAffinity struct {
	hardPodAffinityWeight              int32
	ignorePreferredTermsOfExistingPods bool
	snapshot                           fw.NodeInfoLister
	parallel                           fw.Parallelizer
	// namespaces gives namespace labels for namespaceSelector; nil when the
	// handle has no informers (then no namespace has labels).
	namespaces corelisters.NamespaceLister
	// counts keeps per-node counts of pods matching the incoming pods' terms.
	counts *matchcount.Cache
}

var (
	_ fw.PreFilterPlugin     = &InterPodAffinity{}
	_ fw.PreFilterExtensions = &InterPodAffinity{}
	_ fw.FilterPlugin        = &InterPodAffinity{}
	_ fw.PreScorePlugin      = &InterPodAffinity{}
	_ fw.ScorePlugin         = &InterPodAffinity{}
	_ fw.ScoreExtensions     = &InterPodAffinity{}
	_ fw.EnqueueExtensions   = &InterPodAffinity{}
)

// New makes the plugin from InterPodAffinityArgs (nil: the defaults).
func New(_ context.Context, args runtime.Object, h fw.Handle) (fw.Plugin, error) {
	a, ok := args.(*schedconfig.InterPodAffinityArgs)
	if args != nil && !ok {
		return nil, fmt.Errorf("want args to be of type InterPodAffinityArgs, got %T", args)
	}
	if a == nil {
		a = DefaultArgs()
	}
	if err := ValidateArgs(nil, a); err != nil {
		return nil, err
	}
	if h.SnapshotSharedLister() == nil {
		return nil, fmt.Errorf("SnapshotSharedlister is nil")
	}
	pl := &InterPodAffinity{
		hardPodAffinityWeight:              ptr.Deref(a.HardPodAffinityWeight, 1),
		ignorePreferredTermsOfExistingPods: a.IgnorePreferredTermsOfExistingPods,
		snapshot:                           h.SnapshotSharedLister(),
		parallel:                           h.Parallelizer(),
		counts:                             matchcount.New(0),
	}
	if f := h.SharedInformerFactory(); f != nil {
		pl.namespaces = f.Core().V1().Namespaces().Lister()
	}
	return pl, nil
}

// Name implements fw.Plugin.
func (*InterPodAffinity) Name() string { return Name }

// namespaceLabels are the labels of a namespace, which existing pods' namespace
// selectors are matched against; none if it is unknown.
func (pl *InterPodAffinity) namespaceLabels(ns string) labels.Set {
	if pl.namespaces == nil {
		return nil
	}
	n, err := pl.namespaces.Get(ns)
	if err != nil {
		return nil
	}
	return n.Labels
}

// resolveNamespaceSelector turns the namespace selector of one of the incoming
// pod's terms into the names of the namespaces it selects now, so that matching
// existing pods needs no namespace lookup per pod. An empty selector (all
// namespaces) stays as it is; the term must belong to a PodInfo of our own.
func (pl *InterPodAffinity) resolveNamespaceSelector(t *fw.AffinityTerm) error {
	sel := t.NamespaceSelector
	if sel == nil || sel.Empty() {
		return nil
	}
	if _, selective := sel.Requirements(); !selective {
		// labels.Nothing(): the term has no namespaceSelector.
		return nil
	}
	if pl.namespaces != nil {
		nss, err := pl.namespaces.List(sel)
		if err != nil {
			return fmt.Errorf("list namespaces selected by %q: %w", sel.String(), err)
		}
		for _, n := range nss {
			t.Namespaces.Insert(n.Name)
		}
	}
	t.NamespaceSelector = labels.Nothing()
	return nil
}

// matchesAll says whether pod matches every term (and there is at least one).
// The terms are the incoming pod's, with namespace selectors resolved.
func matchesAll(terms []fw.AffinityTerm, podLabels labels.Set, namespace string) bool {
	if len(terms) == 0 {
		return false
	}
	for i := range terms {
		if !termMatches(&terms[i], podLabels, namespace, nil) {
			return false
		}
	}
	return true
}

// termMatches is AffinityTerm.Matches without building a label set per call.
func termMatches(t *fw.AffinityTerm, podLabels labels.Set, namespace string, nsLabels labels.Set) bool {
	if t.Namespaces.Has(namespace) || t.NamespaceSelector.Matches(nsLabels) {
		return t.Selector.Matches(podLabels)
	}
	return false
}
