package history

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
)

var setKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

func owner() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "web-uid"}}
}

func rev(name string, n int64, raw string) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Revision: n, Data: runtime.RawExtension{Raw: []byte(raw)}}
}

func names(revs []*appsv1.ControllerRevision) string {
	var out []string
	for _, r := range revs {
		out = append(out, r.Name)
	}
	return strings.Join(out, ",")
}

func TestNameCutsTheOwnerSoTheWholeStaysAValidName(t *testing.T) {
	if got := Name("web", "abc"); got != "web-abc" {
		t.Errorf("short: %q", got)
	}
	long := strings.Repeat("a", 250)
	if got := Name(long, "7b9f8c6d5"); len(got) != 223+1+9 || !strings.HasSuffix(got, "-7b9f8c6d5") {
		t.Errorf("long: %d bytes", len(got))
	}
}

func TestHashDataIsFNV1OverTheBytesThenTheCollisionCountInDecimal(t *testing.T) {
	raw := []byte(`{"spec":{"template":{"$patch":"replace"}}}`)
	h := fnv.New32()
	h.Write(raw)
	if got, want := HashData(raw, nil), rand.SafeEncodeString(fmt.Sprint(h.Sum32())); got != want {
		t.Errorf("no collisions: %q, want %q", got, want)
	}
	h.Write([]byte("12"))
	n := int32(12)
	if got, want := HashData(raw, &n), rand.SafeEncodeString(fmt.Sprint(h.Sum32())); got != want {
		t.Errorf("collision count 12: %q, want %q", got, want)
	}
	zero := int32(0)
	if HashData(raw, &zero) == HashData(raw, nil) {
		t.Error("a zero collision count does not change the hash, but upstream writes the digit")
	}
}

func TestTemplateHashChangesWithTheTemplateAndTheCollisionCount(t *testing.T) {
	a := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}}
	b := a.DeepCopy()
	b.Spec.Containers[0].Image = "nginx:2"
	one := int32(1)
	if TemplateHash(a, nil) != TemplateHash(a.DeepCopy(), nil) {
		t.Error("equal templates hash differently")
	}
	if TemplateHash(a, nil) == TemplateHash(b, nil) || TemplateHash(a, nil) == TemplateHash(a, &one) {
		t.Error("a different template or collision count kept the hash")
	}
}

func TestNewLabelsTheRevisionAndPointsAtItsOwner(t *testing.T) {
	tpl := map[string]string{"app": "web"}
	r := New(owner(), setKind, tpl, []byte(`{"x":1}`), 3, nil)
	hash := HashData([]byte(`{"x":1}`), nil)
	ref := metav1.GetControllerOf(r)
	if r.Name != "web-"+hash || r.Namespace != "ns" || r.Revision != 3 || r.Labels["app"] != "web" || r.Labels[HashLabel] != hash ||
		ref == nil || ref.UID != "web-uid" || ref.Kind != "StatefulSet" || !*ref.BlockOwnerDeletion {
		t.Errorf("revision %+v", r.ObjectMeta)
	}
	if _, ok := tpl[HashLabel]; ok {
		t.Error("the template's labels were changed")
	}
}

func TestSortOrdersByRevisionThenAgeThenName(t *testing.T) {
	now := time.Now()
	older := rev("b", 2, "")
	older.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour))
	newer := rev("a", 2, "")
	newer.CreationTimestamp = metav1.NewTime(now)
	revs := []*appsv1.ControllerRevision{rev("z", 3, ""), newer, rev("c", 1, ""), older}
	Sort(revs)
	if got := names(revs); got != "c,b,a,z" {
		t.Errorf("order %s", got)
	}
	if Next(revs) != 4 || Next(nil) != 1 {
		t.Errorf("next %d, %d", Next(revs), Next(nil))
	}
}

func TestFindEqualComparesData(t *testing.T) {
	revs := []*appsv1.ControllerRevision{rev("a", 1, "x"), rev("b", 2, "y"), rev("c", 3, "x")}
	if got := names(FindEqual(revs, rev("n", 0, "x"))); got != "a,c" {
		t.Errorf("equal to x: %s", got)
	}
	if !Equal(nil, nil) || Equal(revs[0], nil) {
		t.Error("nil handling")
	}
}

func TestPrune(t *testing.T) {
	revs := []*appsv1.ControllerRevision{rev("r5", 5, ""), rev("r1", 1, ""), rev("r3", 3, ""), rev("r2", 2, ""), rev("r4", 4, "")}
	liveSet := func(names ...string) func(*appsv1.ControllerRevision) bool {
		return func(r *appsv1.ControllerRevision) bool {
			for _, n := range names {
				if r.Name == n {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		name      string
		live      []string
		limit     int32
		countLive bool
		want      string
	}{
		{"nothing is deleted while the history is within its limit", nil, 5, false, ""},
		{"the oldest revisions go first", nil, 2, false, "r1,r2,r3"},
		{"a limit of zero deletes every revision no pod runs", []string{"r4"}, 0, false, "r1,r2,r3,r5"},
		{"a revision a pod still runs is kept and does not count (StatefulSet)", []string{"r1"}, 2, false, "r2,r3"},
		{"a revision a pod still runs is kept but counts (DaemonSet)", []string{"r1"}, 2, true, "r2,r3,r4"},
		{"live revisions that fill the limit leave nothing to delete beyond the others (DaemonSet)", []string{"r1", "r2", "r3", "r4"}, 2, true, "r5"},
		{"a negative limit keeps everything", nil, -1, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := names(Prune(revs, liveSet(c.live...), c.limit, c.countLive)); got != c.want {
				t.Errorf("deleted %q, want %q", got, c.want)
			}
		})
	}
}

func newStore(objs ...runtime.Object) (*Store, *fake.Clientset) {
	client := fake.NewSimpleClientset(objs...)
	inf := informers.NewSharedInformerFactory(client, 0).Apps().V1().ControllerRevisions()
	for _, o := range objs {
		_ = inf.Informer().GetIndexer().Add(o)
	}
	client.ClearActions()
	return &Store{Client: client, Lister: inf.Lister()}, client
}

func TestCreateRenamesAfterACollisionWithOtherData(t *testing.T) {
	data := []byte(`{"mine":true}`)
	taken := rev(Name("web", HashData(data, ptr(int32(0)))), 1, `{"theirs":true}`)
	s, _ := newStore(taken)
	count := int32(0)
	r := New(owner(), setKind, map[string]string{"app": "web"}, data, 2, &count)
	got, err := s.Create(context.Background(), owner(), r, &count)
	if err != nil {
		t.Fatal(err)
	}
	want := HashData(data, ptr(int32(1)))
	if count != 1 || got.Name != "web-"+want || got.Labels[HashLabel] != want {
		t.Errorf("count %d, name %s, label %s", count, got.Name, got.Labels[HashLabel])
	}
}

func TestCreateReturnsTheRevisionAlreadyThereWithTheSameData(t *testing.T) {
	data := []byte(`{"mine":true}`)
	count := int32(0)
	there := New(owner(), setKind, nil, data, 1, &count)
	s, client := newStore(there)
	got, err := s.Create(context.Background(), owner(), New(owner(), setKind, nil, data, 2, &count), &count)
	if err != nil || got.Name != there.Name || got.Revision != 1 || count != 0 {
		t.Fatalf("%v, %v, count %d", got, err, count)
	}
	if n := len(client.Actions()); n != 2 {
		t.Errorf("%d actions, want a create and a get", n)
	}
}

func TestRenumberUpdatesTheRevisionNumber(t *testing.T) {
	old := rev("web-a", 1, "x")
	s, _ := newStore(old)
	got, err := s.Renumber(context.Background(), old, 4)
	if err != nil || got.Revision != 4 {
		t.Fatalf("%v, %v", got, err)
	}
	if old.Revision != 1 {
		t.Error("the cached revision was changed")
	}
}

func TestClaimAdoptsMatchingOrphansAndReleasesOwnedOnesThatNoLongerMatch(t *testing.T) {
	yes := true
	orphan := rev("orphan", 1, "")
	orphan.Labels = map[string]string{"app": "web"}
	mine := rev("mine", 2, "")
	mine.Labels = map[string]string{"app": "web"}
	mine.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "web", UID: "web-uid", Controller: &yes}}
	strayed := rev("strayed", 3, "")
	strayed.Labels = map[string]string{"app": "other"}
	strayed.OwnerReferences = mine.OwnerReferences
	others := rev("others", 4, "")
	others.Labels = map[string]string{"app": "web"}
	others.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", UID: "db-uid", Controller: &yes}}
	s, client := newStore(orphan, mine, strayed, others)
	client.PrependReactor("patch", "controllerrevisions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		return true, &appsv1.ControllerRevision{}, nil
	})
	m := &controllerref.Manager{Controller: owner(), Kind: setKind}
	got, err := s.Claim(context.Background(), m, labels.SelectorFromSet(labels.Set{"app": "web"}))
	if err != nil {
		t.Fatal(err)
	}
	if n := names(got); n != "mine,orphan" && n != "orphan,mine" {
		t.Errorf("claimed %s", n)
	}
	patched := map[string]string{}
	for _, a := range client.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok {
			patched[p.GetName()] = string(p.GetPatch())
		}
	}
	if len(patched) != 2 || !strings.Contains(patched["orphan"], `"uid":"web-uid"`) || !strings.Contains(patched["strayed"], `"$patch":"delete"`) {
		t.Errorf("patches %v", patched)
	}
}

func TestDeleteIgnoresARevisionAlreadyGone(t *testing.T) {
	s, _ := newStore()
	if err := s.Delete(context.Background(), rev("gone", 1, "")); err != nil {
		t.Error(err)
	}
}

func ptr[T any](v T) *T { return &v }
