package replication

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
)

func TestConversionKeepsEverythingTheControllerUses(t *testing.T) {
	n := int32(3)
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "rc", Namespace: "ns", UID: "u", Generation: 2, ResourceVersion: "7"},
		Spec: corev1.ReplicationControllerSpec{Replicas: &n, MinReadySeconds: 5, Selector: map[string]string{"app": "x"},
			Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}}},
		Status: corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1, ObservedGeneration: 1,
			Conditions: []corev1.ReplicationControllerCondition{{Type: corev1.ReplicationControllerReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate"}}}}
	rs := toReplicaSet(rc)
	if rs.Kind != "ReplicationController" || rs.APIVersion != "v1" || *rs.Spec.Replicas != 3 || rs.Spec.Selector.MatchLabels["app"] != "x" ||
		rs.Spec.Template.Labels["app"] != "x" || rs.Status.Conditions[0].Type != "ReplicaFailure" {
		t.Errorf("as a ReplicaSet: %+v", rs)
	}
	back := fromReplicaSet(rs)
	if back.ResourceVersion != "7" || back.Spec.Selector["app"] != "x" || back.Status.Replicas != 2 || back.Status.Conditions[0].Reason != "FailedCreate" || back.Kind != "" {
		t.Errorf("back: %+v", back)
	}
}

func TestSyncCreatesPodsOwnedByTheReplicationController(t *testing.T) {
	n := int32(2)
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "rc", Namespace: "ns", UID: "rc-uid", Generation: 1},
		Spec: corev1.ReplicationControllerSpec{Replicas: &n, Selector: map[string]string{"app": "x"},
			Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}}}}
	client := fake.NewSimpleClientset(rc)
	i := 0
	client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		i++
		a.(clienttesting.CreateAction).GetObject().(*corev1.Pod).Name = fmt.Sprintf("rc-%d", i)
		return false, nil, nil
	})
	f := informers.NewSharedInformerFactory(client, 0)
	rec := &events.FakeRecorder{Events: make(chan string, 10), Verbose: true}
	c, err := New(Config{Client: client, ReplicationControllers: f.Core().V1().ReplicationControllers(), Pods: f.Core().V1().Pods(),
		Recorder: rec, Workers: 1, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Core().V1().ReplicationControllers().Informer().GetIndexer().Add(rc)
	client.ClearActions()
	if err := c.Sync(context.Background(), "ns/rc"); err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, a := range client.Actions() {
		verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource+"/"+a.GetSubresource())
	}
	if strings.Join(verbs, ",") != "create pods/,create pods/,update replicationcontrollers/status" {
		t.Fatalf("actions %v", verbs)
	}
	pod := client.Actions()[0].(clienttesting.CreateAction).GetObject().(*corev1.Pod)
	if ref := metav1.GetControllerOf(pod); ref == nil || ref.Kind != "ReplicationController" || ref.APIVersion != "v1" || pod.GenerateName != "rc-" {
		t.Errorf("pod %+v", pod.ObjectMeta)
	}
	if e := <-rec.Events; !strings.Contains(e, "Created pod: rc-") || !strings.Contains(e, "kind=ReplicationController") {
		t.Errorf("event %q", e)
	}
}
