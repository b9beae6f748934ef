package job

import (
	"fmt"
	"reflect"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func TestIndexListsParseAndPrintAsUpstreamWritesThem(t *testing.T) {
	cases := []struct {
		name        string
		list        string
		completions int
		want        string
		total       int
	}{
		{"an empty list is no index", "", 10, "", 0},
		{"single indexes stay apart", "1,3,5", 10, "1,3,5", 3},
		{"two neighbours print as a pair", "3,4", 10, "3,4", 2},
		{"longer runs print as a range", "0-2,4,6-9", 10, "0-2,4,6-9", 8},
		{"adjacent parts are joined", "0,1,2,5-6,7", 10, "0-2,5-7", 6},
		{"overlapping parts are joined", "0-4,2-6", 10, "0-6", 7},
		{"indexes at or beyond completions are dropped", "1,3-12,15", 5, "1,3,4", 3},
		{"garbage parts are skipped", "x,2,-3,4-y,6", 10, "2,6", 2},
		{"out of order input is sorted", "7,1-2", 10, "1,2,7", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := parseIndexes(c.list, c.completions)
			if got := s.String(); got != c.want {
				t.Errorf("String() = %q, want %q", got, c.want)
			}
			if s.total() != c.total {
				t.Errorf("total() = %d, want %d", s.total(), c.total)
			}
		})
	}
}

func TestIndexSetMembershipUnionAndOverlap(t *testing.T) {
	s := parseIndexes("1,3-5,9", 20)
	for ix, want := range map[int]bool{0: false, 1: true, 2: false, 3: true, 5: true, 6: false, 9: true, 10: false} {
		if s.has(ix) != want {
			t.Errorf("has(%d) = %v", ix, !want)
		}
	}
	if got := s.with(2, 6, 0).String(); got != "0-6,9" {
		t.Errorf("with = %q", got)
	}
	if got := s.union(parseIndexes("6-8,12", 20)).String(); got != "1,3-9,12" {
		t.Errorf("union = %q", got)
	}
	cases := []struct {
		a, b string
		want int
	}{
		{"1,3-5,9", "0-20", 5},
		{"1,3-5,9", "4-9", 3},
		{"0-3", "4-6", 0},
		{"0-10", "2,4,6-7", 4},
		{"", "1-3", 0},
	}
	for _, c := range cases {
		if got := parseIndexes(c.a, 100).overlap(parseIndexes(c.b, 100)); got != c.want {
			t.Errorf("overlap(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestPendingIndexesAreTheLowestNotTaken(t *testing.T) {
	cases := []struct {
		name        string
		taken       string
		count       int
		completions int
		want        []int
	}{
		{"nothing taken: the first ones", "", 3, 10, []int{0, 1, 2}},
		{"gaps between taken spans are filled first", "0,2-4,7", 4, 10, []int{1, 5, 6, 8}},
		{"never beyond completions", "0-7", 5, 10, []int{8, 9}},
		{"all taken: none", "0-4", 2, 5, nil},
		{"zero asked: none", "", 0, 5, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pendingIndexes(parseIndexes(c.taken, c.completions), c.count, c.completions); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func indexedPod(name string, index int, phase corev1.PodPhase, ready bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)}, Status: corev1.PodStatus{Phase: phase}}
	if index != noIndex {
		p.Annotations = map[string]string{batchv1.JobCompletionIndexAnnotation: fmt.Sprint(index)}
	}
	if ready {
		p.Spec.NodeName = "n"
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestSurplusIndexedPodsAreDuplicatesInvalidAndUnindexedOnes(t *testing.T) {
	pods := []*corev1.Pod{
		indexedPod("a0-pending", 0, corev1.PodPending, false),
		indexedPod("a0-running", 0, corev1.PodRunning, true),
		indexedPod("b1", 1, corev1.PodRunning, false),
		indexedPod("c-none", noIndex, corev1.PodRunning, false),
		indexedPod("d9-beyond", 9, corev1.PodRunning, false),
	}
	pods[3].Annotations = map[string]string{batchv1.JobCompletionIndexAnnotation: "not-a-number"}
	remove, keep := surplusIndexedPods(pods, 3)
	if got := names(remove); !reflect.DeepEqual(got, []string{"c-none", "d9-beyond", "a0-pending"}) {
		t.Errorf("remove %v", got)
	}
	if got := names(keep); !reflect.DeepEqual(got, []string{"a0-running", "b1"}) {
		t.Errorf("keep %v", got)
	}
}

func TestPodsToRemovePrefersTheLeastAdvanced(t *testing.T) {
	job := &batchv1.Job{Spec: batchv1.JobSpec{Completions: ptr.To[int32](3)}}
	pods := []*corev1.Pod{indexedPod("ready", noIndex, corev1.PodRunning, true), indexedPod("pending", noIndex, corev1.PodPending, false)}
	if got := names(podsToRemove(job, pods, 1)); !reflect.DeepEqual(got, []string{"pending"}) {
		t.Errorf("non-indexed: %v", got)
	}
	job.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	dup := []*corev1.Pod{indexedPod("x", 1, corev1.PodRunning, true), indexedPod("y", 1, corev1.PodRunning, false), indexedPod("z", 2, corev1.PodRunning, true)}
	if got := names(podsToRemove(job, dup, 0)); !reflect.DeepEqual(got, []string{"y"}) {
		t.Errorf("an indexed job's duplicates go even when none must: %v", got)
	}
	if got := names(podsToRemove(job, dup, 3)); len(got) != 3 {
		t.Errorf("asked for 3: %v", got)
	}
}
