package ttlafterfinished

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func job(ttl *int32, finished batchv1.JobConditionType, at time.Time) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "ns", UID: "pi-uid"}, Spec: batchv1.JobSpec{TTLSecondsAfterFinished: ttl}}
	if finished != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at.Add(-time.Hour))},
			{Type: finished, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}
	}
	return j
}

func TestTimeLeftRunsFromTheTerminalCondition(t *testing.T) {
	cases := []struct {
		name      string
		job       *batchv1.Job
		now       time.Time
		wantLeft  time.Duration
		wantClean bool
	}{
		{"no TTL: kept", job(nil, batchv1.JobComplete, t0), t0, 0, false},
		{"not finished: kept", job(ptr.To[int32](0), "", t0), t0, 0, false},
		{"complete, TTL 100s, 40s ago: 60s left", job(ptr.To[int32](100), batchv1.JobComplete, t0), t0.Add(40 * time.Second), 60 * time.Second, true},
		{"failed, TTL 0: due at once", job(ptr.To[int32](0), batchv1.JobFailed, t0), t0, 0, true},
		{"expired long ago: negative", job(ptr.To[int32](10), batchv1.JobComplete, t0), t0.Add(time.Minute), -50 * time.Second, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := needsCleanup(c.job); got != c.wantClean {
				t.Fatalf("needsCleanup = %v", got)
			}
			if !c.wantClean {
				return
			}
			left, err := timeLeft(c.job, c.now)
			if err != nil || left != c.wantLeft {
				t.Errorf("left %s, %v; want %s", left, err, c.wantLeft)
			}
		})
	}
}

func newController(t *testing.T, now time.Time, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Jobs: factory.Batch().V1().Jobs(), Workers: 1, Clock: clocktesting.NewFakeClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		_ = factory.Batch().V1().Jobs().Informer().GetIndexer().Add(o)
	}
	return c, client
}

func actions(client *fake.Clientset) string {
	var out []string
	for _, a := range client.Actions() {
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
	}
	return strings.Join(out, ", ")
}

func TestAJobNotYetExpiredComesBackWhenItWillBe(t *testing.T) {
	c, client := newController(t, t0.Add(30*time.Second), job(ptr.To[int32](100), batchv1.JobComplete, t0))
	err := c.sync(context.Background(), "ns/pi")
	if d, ok := worker.RequeueDelay(err); !ok || d != 70*time.Second {
		t.Fatalf("sync: %v", err)
	}
	if got := actions(client); got != "" {
		t.Errorf("actions %s", got)
	}
}

func TestAnExpiredJobIsReadAfreshThenDeletedInTheForegroundWithItsUID(t *testing.T) {
	c, client := newController(t, t0.Add(time.Minute), job(ptr.To[int32](10), batchv1.JobComplete, t0))
	var opts metav1.DeleteOptions
	client.PrependReactor("delete", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		opts = a.(clienttesting.DeleteAction).GetDeleteOptions()
		return false, nil, nil
	})
	if err := c.sync(context.Background(), "ns/pi"); err != nil {
		t.Fatal(err)
	}
	if got := actions(client); got != "get jobs, delete jobs" {
		t.Fatalf("actions %s", got)
	}
	if *opts.PropagationPolicy != metav1.DeletePropagationForeground || *opts.Preconditions.UID != "pi-uid" {
		t.Errorf("options %+v", opts)
	}
}

func TestAJobWhoseTTLWasRaisedMeanwhileIsKept(t *testing.T) {
	cached := job(ptr.To[int32](10), batchv1.JobComplete, t0)
	c, client := newController(t, t0.Add(time.Minute), cached)
	fresh := cached.DeepCopy()
	fresh.Spec.TTLSecondsAfterFinished = ptr.To[int32](3600)
	_, _ = client.BatchV1().Jobs("ns").Update(context.Background(), fresh, metav1.UpdateOptions{})
	client.ClearActions()
	err := c.sync(context.Background(), "ns/pi")
	if d, ok := worker.RequeueDelay(err); !ok || d != 59*time.Minute {
		t.Fatalf("sync: %v", err)
	}
	if got := actions(client); got != "get jobs" {
		t.Errorf("actions %s", got)
	}
}
