package interpodaffinity

import (
	"context"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/matchcount"
)

// selectorKey writes a selector so that different selectors read differently
// (Nothing and Everything both print as "").
func selectorKey(b *strings.Builder, sel labels.Selector) {
	if _, ok := sel.Requirements(); !ok {
		b.WriteString("<none>")
		return
	}
	b.WriteString(sel.String())
}

// termKey names what an incoming pod's term matches: its namespaces (selectors
// resolved already) and its label selector.
func termKey(b *strings.Builder, t *fw.AffinityTerm) {
	ns := make([]string, 0, len(t.Namespaces))
	for n := range t.Namespaces {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	b.WriteString(strings.Join(ns, ","))
	b.WriteByte('|')
	selectorKey(b, t.NamespaceSelector)
	b.WriteByte('|')
	selectorKey(b, t.Selector)
}

// countMatching tallies, by the term's topology domains, the existing pods that
// match one term of the incoming pod.
func (pl *InterPodAffinity) countMatching(ctx context.Context, nodes []*fw.NodeInfo, t *fw.AffinityTerm) *matchcount.Tally {
	var b strings.Builder
	b.WriteString("one:")
	termKey(&b, t)
	return pl.counts.Tally(ctx, pl.parallel, nodes, matchcount.Question{Key: b.String(), TopologyKey: t.TopologyKey,
		Count: func(ni *fw.NodeInfo) (int32, bool) {
			var n int32
			for _, existing := range ni.Pods {
				p := existing.Pod
				if termMatches(t, labels.Set(p.Labels), p.Namespace, nil) {
					n++
				}
			}
			return n, true
		}})
}

// countMatchingAll tallies, by the domains of topologyKey, the existing pods
// that match all the incoming pod's terms.
func (pl *InterPodAffinity) countMatchingAll(ctx context.Context, nodes []*fw.NodeInfo, terms []fw.AffinityTerm, topologyKey string) *matchcount.Tally {
	var b strings.Builder
	b.WriteString("all:")
	for i := range terms {
		termKey(&b, &terms[i])
		b.WriteByte('&')
	}
	return pl.counts.Tally(ctx, pl.parallel, nodes, matchcount.Question{Key: b.String(), TopologyKey: topologyKey,
		Count: func(ni *fw.NodeInfo) (int32, bool) {
			var n int32
			for _, existing := range ni.Pods {
				p := existing.Pod
				if matchesAll(terms, labels.Set(p.Labels), p.Namespace) {
					n++
				}
			}
			return n, true
		}})
}

// addTally adds weight times each domain's matching pods to the counts.
func (m topologyCounts) addTally(key string, t *matchcount.Tally, weight int64) {
	for d, n := range t.Pods {
		if n != 0 {
			m.add(key, t.Domains.Value(int32(d)), n*weight)
		}
	}
}
