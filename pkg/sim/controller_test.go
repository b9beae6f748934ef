package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// The controller against a fake API: simulated nodes heartbeat, their pods run and
// are removed, a failed node does neither, and pods of other nodes are not touched.
func TestControllerRunsSimulatedNodesAndTheirPods(t *testing.T) {
	client := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tp := template()
	for i := 0; i < 2; i++ {
		n, err := tp.Build(i, i, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		n.UID = types.UID("uid-" + n.Name)
		must(client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}))
	}
	must(client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "real"}}, metav1.CreateOptions{}))
	c, err := New(Config{Client: client, LeaseDuration: 2 * time.Second, LeaseRenewInterval: 100 * time.Millisecond,
		StatusReportInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	leaseOf := func(name string) time.Time {
		l, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return time.Time{}
		}
		return leaseRenewed(l)
	}
	eventually(t, "both simulated nodes have a lease renewed twice", func() error {
		for _, n := range []string{"sim-0", "sim-1"} {
			first := leaseOf(n)
			if first.IsZero() {
				return fmt.Errorf("no lease for %s", n)
			}
			time.Sleep(150 * time.Millisecond)
			if !leaseOf(n).After(first) {
				return fmt.Errorf("lease of %s not renewed", n)
			}
		}
		return nil
	})
	if !leaseOf("real").IsZero() {
		t.Error("a lease was written for a node that is not simulated")
	}

	must(client.CoreV1().Pods("ns").Create(ctx, podOn("a", "sim-0"), metav1.CreateOptions{}))
	must(client.CoreV1().Pods("ns").Create(ctx, podOn("b", "sim-0"), metav1.CreateOptions{}))
	must(client.CoreV1().Pods("ns").Create(ctx, podOn("r", "real"), metav1.CreateOptions{}))
	ips := map[string]string{}
	eventually(t, "pods of a simulated node run with addresses of its range", func() error {
		for _, name := range []string{"a", "b"} {
			p, err := client.CoreV1().Pods("ns").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodRunning || p.Status.HostIP != "198.18.0.1" {
				return fmt.Errorf("pod %s: %s on %s", name, p.Status.Phase, p.Status.HostIP)
			}
			ips[name] = p.Status.PodIP
		}
		return nil
	})
	if ips["a"] == ips["b"] || ips["a"][:9] != "100.64.0." || ips["b"][:9] != "100.64.0." {
		t.Errorf("pod addresses %v are not distinct addresses of 100.64.0.0/24", ips)
	}

	// sim-1 fails: no lease renewal, no pod started; then it recovers.
	setAnnotation(t, client, "sim-1", AnnotationFailed, "now")
	time.Sleep(300 * time.Millisecond)
	stopped := leaseOf("sim-1")
	must(client.CoreV1().Pods("ns").Create(ctx, podOn("f", "sim-1"), metav1.CreateOptions{}))
	time.Sleep(500 * time.Millisecond)
	if got := leaseOf("sim-1"); !got.Equal(stopped) {
		t.Errorf("the lease of a failed node was renewed: %s then %s", stopped, got)
	}
	if p, _ := client.CoreV1().Pods("ns").Get(ctx, "f", metav1.GetOptions{}); p.Status.Phase == corev1.PodRunning {
		t.Error("a pod of a failed node was started")
	}
	setAnnotation(t, client, "sim-1", AnnotationFailed, "")
	eventually(t, "a recovered node renews its lease and runs its pods", func() error {
		if !leaseOf("sim-1").After(stopped) {
			return fmt.Errorf("lease not renewed")
		}
		p, _ := client.CoreV1().Pods("ns").Get(ctx, "f", metav1.GetOptions{})
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "100.64.1.2" {
			return fmt.Errorf("pod f: %s %s", p.Status.Phase, p.Status.PodIP)
		}
		return nil
	})

	// Deleting: the API sets deletionTimestamp; the node finishes the deletion.
	p, _ := client.CoreV1().Pods("ns").Get(ctx, "a", metav1.GetOptions{})
	now, grace := metav1.Now(), int64(30)
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, &grace
	p.ResourceVersion = "deleting" // the fake API keeps resource versions as given
	if _, err := client.CoreV1().Pods("ns").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a pod being deleted is removed", func() error {
		if _, err := client.CoreV1().Pods("ns").Get(ctx, "a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("pod a still there: %v", err)
		}
		return nil
	})
	must(client.CoreV1().Pods("ns").Create(ctx, podOn("c", "sim-0"), metav1.CreateOptions{}))
	eventually(t, "the address of a deleted pod is given to the next", func() error {
		p, _ := client.CoreV1().Pods("ns").Get(ctx, "c", metav1.GetOptions{})
		if p.Status.PodIP != ips["a"] {
			return fmt.Errorf("pod c has %q, want %s", p.Status.PodIP, ips["a"])
		}
		return nil
	})
	if p, _ := client.CoreV1().Pods("ns").Get(ctx, "r", metav1.GetOptions{}); p.Status.Phase != "" {
		t.Errorf("a pod of a real node was touched: %+v", p.Status)
	}

	if err := client.CoreV1().Nodes().Delete(ctx, "sim-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a deleted node's lease goes with it", func() error {
		if !leaseOf("sim-0").IsZero() {
			return fmt.Errorf("lease of sim-0 still there")
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// With no simulated node, no pod is watched at all.
func TestControllerWatchesNoPodsWithoutSimulatedNodes(t *testing.T) {
	client := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := New(Config{Client: client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-done
	for _, a := range client.Actions() {
		if a.GetResource().Resource == "pods" {
			t.Errorf("pods were read: %v", a)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	client := fake.NewClientset()
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"the defaults are valid", Config{Client: client}, true},
		{"a client is required", Config{}, false},
		{"renewing no sooner than the lease expires is refused", Config{Client: client, LeaseDuration: 10 * time.Second, LeaseRenewInterval: 10 * time.Second}, false},
		{"negative workers are refused", Config{Client: client, PodWorkers: -1}, false},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func podOn(name, node string) *corev1.Pod {
	p := testPod()
	p.Name, p.UID, p.Spec.NodeName = name, types.UID("uid-"+name), node
	p.Status = corev1.PodStatus{}
	return p
}

func setAnnotation(t *testing.T, client kubernetes.Interface, node, key, value string) {
	t.Helper()
	n, err := client.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if value == "" {
		delete(n.Annotations, key)
	} else {
		n.Annotations[key] = value
	}
	n.ResourceVersion = key + "=" + value // the fake API keeps resource versions as given
	if _, err := client.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
