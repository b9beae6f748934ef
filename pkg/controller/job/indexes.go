package job

import (
	"sort"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/kubectl/pkg/util/podutils"
)

// noIndex is the completion index of a pod without a usable one.
const noIndex = -1

// span is a run of consecutive completion indexes, first and last included.
type span struct{ first, last int }

// indexSet is a set of completion indexes as ordered, disjoint, non-adjacent
// spans: the form of status.completedIndexes and failedIndexes ("1,3-5,7").
type indexSet []span

// parseIndexes reads an index list as the status holds it, dropping what is
// not a number and what lies at or beyond completions (a job scaled down).
func parseIndexes(list string, completions int) indexSet {
	if list == "" {
		return nil
	}
	var spans []span
	for _, part := range strings.Split(list, ",") {
		bounds := strings.SplitN(part, "-", 2)
		first, err := strconv.Atoi(bounds[0])
		if err != nil || first < 0 || first >= completions {
			continue
		}
		last := first
		if len(bounds) == 2 {
			if last, err = strconv.Atoi(bounds[1]); err != nil || last < first {
				continue
			}
			last = min(last, completions-1)
		}
		spans = append(spans, span{first, last})
	}
	return normalize(spans)
}

// normalize sorts spans and joins the ones that overlap or touch.
func normalize(spans []span) indexSet {
	if len(spans) == 0 {
		return nil
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].first < spans[j].first })
	out := indexSet{spans[0]}
	for _, s := range spans[1:] {
		end := &out[len(out)-1]
		if s.first <= end.last+1 {
			end.last = max(end.last, s.last)
			continue
		}
		out = append(out, s)
	}
	return out
}

// String writes the set as upstream does: two neighbours as "3,4", longer runs
// as "3-6".
func (s indexSet) String() string {
	var b strings.Builder
	for _, sp := range s {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(sp.first))
		switch {
		case sp.last == sp.first+1:
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(sp.last))
		case sp.last > sp.first:
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(sp.last))
		}
	}
	return b.String()
}

// total is the number of indexes in the set.
func (s indexSet) total() int {
	n := 0
	for _, sp := range s {
		n += sp.last - sp.first + 1
	}
	return n
}

// has reports whether ix is in the set.
func (s indexSet) has(ix int) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].last >= ix })
	return i < len(s) && s[i].first <= ix
}

// with returns the set with the indexes added.
func (s indexSet) with(indexes ...int) indexSet {
	spans := append([]span(nil), s...)
	for _, ix := range indexes {
		spans = append(spans, span{ix, ix})
	}
	return normalize(spans)
}

// union returns the indexes of both sets.
func (s indexSet) union(o indexSet) indexSet {
	return normalize(append(append([]span(nil), s...), o...))
}

// overlap counts the indexes both sets hold.
func (s indexSet) overlap(o indexSet) int {
	n, i, j := 0, 0, 0
	for i < len(s) && j < len(o) {
		if d := min(s[i].last, o[j].last) - max(s[i].first, o[j].first) + 1; d > 0 {
			n += d
		}
		if s[i].last < o[j].last {
			i++
		} else {
			j++
		}
	}
	return n
}

// completionIndex is a pod's index from its annotation, or noIndex.
func completionIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return noIndex
	}
	ix, err := strconv.Atoi(v)
	if err != nil || ix < 0 {
		return noIndex
	}
	return ix
}

// validIndex reports whether p has an index the job can count.
func validIndex(p *corev1.Pod, completions int32) bool {
	ix := completionIndex(p)
	return ix != noIndex && ix < int(completions)
}

// indexesOf are the completion indexes of pods.
func indexesOf(pods []*corev1.Pod) []int {
	set := sets.New[int]()
	for _, p := range pods {
		if ix := completionIndex(p); ix != noIndex {
			set.Insert(ix)
		}
	}
	return sets.List(set)
}

// pendingIndexes returns up to count of the lowest indexes below completions
// that are not in taken (succeeded, failed, or held by a pod).
func pendingIndexes(taken indexSet, count, completions int) []int {
	var out []int
	next := 0
	for _, sp := range taken {
		for ; next < sp.first && next < completions && len(out) < count; next++ {
			out = append(out, next)
		}
		next = max(next, sp.last+1)
	}
	for ; next < completions && len(out) < count; next++ {
		out = append(out, next)
	}
	return out
}

// surplusIndexedPods splits an indexed job's active pods into the ones to
// remove whatever happens (no index, an index beyond completions, or one of
// several pods of one index, keeping the most advanced) and the rest.
func surplusIndexedPods(pods []*corev1.Pod, completions int32) (remove, keep []*corev1.Pod) {
	byIndex := map[int][]*corev1.Pod{}
	for _, p := range pods {
		if !validIndex(p, completions) {
			remove = append(remove, p)
			continue
		}
		ix := completionIndex(p)
		byIndex[ix] = append(byIndex[ix], p)
	}
	indexes := make([]int, 0, len(byIndex))
	for ix := range byIndex {
		indexes = append(indexes, ix)
	}
	sort.Ints(indexes)
	for _, ix := range indexes {
		same := byIndex[ix]
		sort.Sort(podutils.ActivePods(same))
		remove = append(remove, same[:len(same)-1]...)
		keep = append(keep, same[len(same)-1])
	}
	return remove, keep
}

// podsToRemove picks at least n active pods to delete: for an indexed job the
// surplus ones first, then the least advanced (unscheduled, pending, not ready,
// ready for less time, ...).
func podsToRemove(job *batchv1.Job, active []*corev1.Pod, n int) []*corev1.Pod {
	var remove, rest []*corev1.Pod
	if isIndexed(job) {
		remove, rest = surplusIndexedPods(active, *job.Spec.Completions)
	} else {
		rest = append(rest, active...)
	}
	if len(remove) < n {
		sort.Sort(podutils.ActivePods(rest))
		remove = append(remove, rest[:min(n-len(remove), len(rest))]...)
	}
	return remove
}

// byIndex orders pods by completion index.
func byIndex(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool { return completionIndex(pods[i]) < completionIndex(pods[j]) })
}
