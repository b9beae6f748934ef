package podcontrol

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
)

func TestNamePrefix(t *testing.T) {
	cases := []struct{ name, want string }{
		{"web-5d4f8", "web-5d4f8-"},
		{strings.Repeat("a", 255), strings.Repeat("a", 255)},
	}
	for _, c := range cases {
		if got := NamePrefix(c.name); got != c.want {
			t.Errorf("NamePrefix(%q) = %q", c.name, got)
		}
	}
}

func TestFromTemplateCopiesMetadataAndSpecAndSetsTheReference(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}, Finalizers: []string{"f"}, Name: "ignored"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	yes := true
	ref := &metav1.OwnerReference{Kind: "ReplicaSet", Name: "web", UID: "u", Controller: &yes}
	p := FromTemplate(tpl, "web", ref)
	if p.GenerateName != "web-" || p.Name != "" || p.Labels["app"] != "web" || p.Annotations["a"] != "b" || p.Finalizers[0] != "f" ||
		p.Spec.Containers[0].Image != "busybox" || metav1.GetControllerOf(p).UID != "u" {
		t.Errorf("got %+v", p)
	}
	p.Labels["app"] = "changed"
	if tpl.Labels["app"] != "web" {
		t.Error("the pod shares the template's labels")
	}
}

func TestNoteIsCutToTheEventLimit(t *testing.T) {
	if got := Note("Created pod: %s", "web-1"); got != "Created pod: web-1" {
		t.Errorf("short note changed: %q", got)
	}
	long := Note("Error creating: %s", strings.Repeat("é", 1000))
	if len(long) > maxNote || !strings.HasSuffix(long, "...") || !strings.HasPrefix(long, "Error creating: ") {
		t.Errorf("long note: %d bytes", len(long))
	}
}

func TestSlowStartBatchDoublesAndStopsAtTheFirstFailingBatch(t *testing.T) {
	var calls atomic.Int32
	ok, err := SlowStartBatch(10, 1, func() error { calls.Add(1); return nil })
	if ok != 10 || err != nil || calls.Load() != 10 {
		t.Errorf("all good: %d, %v, %d calls", ok, err, calls.Load())
	}
	calls.Store(0)
	// Batches 1, 2, 4: the fourth call (first of the third batch) fails.
	ok, err = SlowStartBatch(10, 1, func() error {
		if calls.Add(1) == 4 {
			return errors.New("quota exceeded")
		}
		return nil
	})
	if ok != 6 || err == nil || calls.Load() != 7 {
		t.Errorf("failing third batch: %d successes, %v, %d calls; want 6 successes after 7 calls", ok, err, calls.Load())
	}
	if ok, err := SlowStartBatch(0, 1, func() error { t.Error("called for zero"); return nil }); ok != 0 || err != nil {
		t.Errorf("zero: %d, %v", ok, err)
	}
}

func owner() *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "rs"}}
}

func TestCreateRecordsUpstreamsEvents(t *testing.T) {
	client := fake.NewSimpleClientset()
	client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod).DeepCopy()
		p.Name = p.GenerateName + "abcde"
		return true, p, nil
	})
	rec := events.NewFakeRecorder(5)
	c := &Control{Client: client, Recorder: rec}
	tpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}}
	p, err := c.Create(context.Background(), "ns", tpl, owner(), "web", nil)
	if err != nil || p.Name != "web-abcde" {
		t.Fatalf("%v, %v", p, err)
	}
	if got := <-rec.Events; got != "Normal SuccessfulCreate Created pod: web-abcde" {
		t.Errorf("event %q", got)
	}
	if _, err := c.Create(context.Background(), "ns", &corev1.PodTemplateSpec{}, owner(), "web", nil); err == nil || err.Error() != "unable to create pods, no labels" {
		t.Errorf("unlabelled template: %v", err)
	}
}

func TestCreateFailuresAreEventsUnlessTheNamespaceIsTerminating(t *testing.T) {
	client := fake.NewSimpleClientset()
	refusal := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`exceeded quota: q`))
	client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, refusal })
	rec := events.NewFakeRecorder(5)
	c := &Control{Client: client, Recorder: rec}
	tpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}}
	if _, err := c.Create(context.Background(), "ns", tpl, owner(), "web", nil); err == nil {
		t.Fatal("no error")
	}
	if got := <-rec.Events; got != `Warning FailedCreate Error creating: pods is forbidden: exceeded quota: q` {
		t.Errorf("event %q", got)
	}
	terminating := &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}}}}
	client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, terminating })
	if _, err := c.Create(context.Background(), "ns", tpl, owner(), "web", nil); err == nil {
		t.Fatal("no error")
	}
	select {
	case e := <-rec.Events:
		t.Errorf("event for a terminating namespace: %q", e)
	default:
	}
}

func TestDeleteRecordsUpstreamsEvents(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "ns"}}
	client := fake.NewSimpleClientset(p)
	rec := events.NewFakeRecorder(5)
	c := &Control{Client: client, Recorder: rec}
	if err := c.Delete(context.Background(), p, owner()); err != nil {
		t.Fatal(err)
	}
	if got := <-rec.Events; got != "Normal SuccessfulDelete Deleted pod: web-1" {
		t.Errorf("event %q", got)
	}
	if err := c.Delete(context.Background(), p, owner()); !apierrors.IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
	select {
	case e := <-rec.Events:
		t.Errorf("event for a pod already gone: %q", e)
	default:
	}
}

func TestByControllerFindsOwnedPodsAndOrphans(t *testing.T) {
	client := fake.NewSimpleClientset()
	inf := informers.NewSharedInformerFactory(client, 0).Core().V1().Pods().Informer()
	if err := AddControllerIndex(inf); err != nil {
		t.Fatal(err)
	}
	if err := AddControllerIndex(inf); err != nil {
		t.Fatalf("adding the index twice: %v", err)
	}
	yes := true
	ref := func(uid string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web", UID: "rs", Controller: &yes}}
	}
	mine := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "mine", Namespace: "ns", OwnerReferences: ref("rs")}}
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "ns"}}
	elsewhere := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "other"}}
	others := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "others", Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "db", UID: "db", Controller: &yes}}}}
	for _, p := range []*corev1.Pod{mine, orphan, elsewhere, others} {
		_ = inf.GetIndexer().Add(p)
	}
	got, err := ByController(inf.GetIndexer(), owner(), "ReplicaSet", true)
	if err != nil || len(got) != 2 {
		t.Fatalf("got %d pods, %v", len(got), err)
	}
	got, _ = ByController(inf.GetIndexer(), owner(), "ReplicaSet", false)
	if len(got) != 1 || got[0].Name != "mine" {
		t.Errorf("without orphans: %v", got)
	}
}

func TestOnNodeFindsThePodsBoundToANode(t *testing.T) {
	inf := informers.NewSharedInformerFactory(fake.NewSimpleClientset(), 0).Core().V1().Pods().Informer()
	if err := AddNodeNameIndex(inf); err != nil {
		t.Fatal(err)
	}
	if err := AddNodeNameIndex(inf); err != nil {
		t.Fatalf("adding the index twice: %v", err)
	}
	for _, p := range []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Spec: corev1.PodSpec{NodeName: "n1"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "other"}, Spec: corev1.PodSpec{NodeName: "n1"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Spec: corev1.PodSpec{NodeName: "n2"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: "ns"}},
	} {
		_ = inf.GetIndexer().Add(p)
	}
	got, err := OnNode(inf.GetIndexer(), "n1")
	if err != nil || len(got) != 2 {
		t.Errorf("got %d pods, %v", len(got), err)
	}
}
