package prober

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// fakeCRI answers ExecSync with a settable exit code; nothing else is used.
type fakeCRI struct {
	runtime.CRI
	exit atomic.Int32
}

func (f *fakeCRI) ExecSync(context.Context, string, []string, time.Duration) (*runtimeapi.ExecSyncResponse, error) {
	return &runtimeapi.ExecSyncResponse{ExitCode: f.exit.Load(), Stdout: []byte("out")}, nil
}

func testPod(c corev1.Container) (*corev1.Pod, *lifecycle.Pod) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: types.UID("u1")},
		Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	rt := &lifecycle.Pod{
		Sandboxes:  []lifecycle.Sandbox{{ID: "sb", Ready: true, IPs: []string{"127.0.0.1"}}},
		Containers: []lifecycle.Container{{ID: "c1", Name: c.Name, Phase: lifecycle.ContainerRunning, StartedAt: time.Now()}},
	}
	return pod, rt
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("not true after 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLivenessFailsAfterThreshold(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cri := &fakeCRI{}
	rec := record.NewFakeRecorder(100)
	m := NewManager(ctx, &Checker{Runtime: cri}, rec)
	var wakes atomic.Int32
	m.Wake = func(types.UID) { wakes.Add(1) }
	pod, rt := testPod(corev1.Container{Name: "c", LivenessProbe: &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
		PeriodSeconds: 1, FailureThreshold: 2}})
	m.Update(pod, rt)
	time.Sleep(300 * time.Millisecond)
	if _, _, bad := m.Results(pod.UID); len(bad) != 0 {
		t.Fatalf("healthy container reported unhealthy: %v", bad)
	}
	cri.exit.Store(1)
	eventually(t, "unhealthy after two failures", func() bool {
		_, _, bad := m.Results(pod.UID)
		return bad["c"] == "Liveness probe failed: out"
	})
	if wakes.Load() == 0 {
		t.Fatal("the pod worker was not woken")
	}
	// A new instance starts from a clean slate.
	rt.Containers[0].ID = "c2"
	cri.exit.Store(0)
	m.Update(pod, rt)
	if _, _, bad := m.Results(pod.UID); len(bad) != 0 {
		t.Fatalf("new instance inherited the verdict: %v", bad)
	}
	m.Forget(pod.UID)
	if r, s, _ := m.Results(pod.UID); len(r)+len(s) != 0 {
		t.Fatal("Forget left results")
	}
}

func TestReadinessWaitsForStartupAndInitialDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "kube-probe/1.37" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	m := NewManager(ctx, &Checker{Runtime: &fakeCRI{}, UserAgent: "kube-probe/1.37"}, record.NewFakeRecorder(100))
	pod, rt := testPod(corev1.Container{Name: "c",
		StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}},
			PeriodSeconds: 1, InitialDelaySeconds: 1},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(int32(port))}},
			PeriodSeconds: 1}})
	m.Update(pod, rt)
	ready, started, _ := m.Results(pod.UID)
	if ready["c"] || started["c"] {
		t.Fatalf("ready=%v started=%v before any probe ran", ready, started)
	}
	eventually(t, "started and ready", func() bool {
		ready, started, _ := m.Results(pod.UID)
		return ready["c"] && started["c"]
	})
}

func TestHTTPProbeMessages(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	c := &Checker{}
	res, msg := c.Run(context.Background(), Handler{HTTPGet: &corev1.HTTPGetAction{Path: "/x", Port: intstr.FromInt32(int32(port))}},
		nil, &corev1.Container{}, "", host, time.Second)
	if res != Failure || msg != "HTTP probe failed with statuscode: 404" {
		t.Fatalf("got %v %q", res, msg)
	}
	srv.Close()
	res, msg = c.Run(context.Background(), Handler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}},
		nil, &corev1.Container{}, "", host, time.Second)
	if res != Failure || msg == "" {
		t.Fatalf("closed port: got %v %q", res, msg)
	}
	if _, err := resolvePort(intstr.FromString("web"), &corev1.Container{Name: "c", Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: 81}}}); err != nil {
		t.Fatal(err)
	}
}
