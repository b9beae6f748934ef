package apiserver

import (
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPickContainer(t *testing.T) {
	pod := func(containers, inits []string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		}
		for _, c := range inits {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: c})
		}
		return p
	}
	if c, err := pickContainer(pod([]string{"a"}, nil), ""); err != nil || c != "a" {
		t.Fatalf("one container: %q, %v", c, err)
	}
	if c, err := pickContainer(pod([]string{"a", "b"}, []string{"i"}), "i"); err != nil || c != "i" {
		t.Fatalf("init container by name: %q, %v", c, err)
	}
	cases := []struct {
		pod       *corev1.Pod
		container string
		want      string
	}{
		{pod([]string{"a", "b"}, nil), "", "a container name must be specified for pod x, choose one of: [a b]"},
		{pod([]string{"a", "b"}, []string{"i", "j"}), "", "a container name must be specified for pod x, choose one of: [a b] or one of the init containers: [i j]"},
		{pod([]string{"a"}, nil), "y", "container y is not valid for pod x"},
		{pod(nil, nil), "", "a container name must be specified for pod x"},
	}
	for _, c := range cases {
		_, err := pickContainer(c.pod, c.container)
		if !apierrors.IsBadRequest(err) || err.Error() != c.want {
			t.Errorf("got %v, want BadRequest %q", err, c.want)
		}
	}
}

func TestLogParams(t *testing.T) {
	out, err := logParams(url.Values{"follow": {"true"}, "previous": {"false"}, "tailLines": {"10"},
		"sinceTime": {"2024-05-01T10:00:00Z"}, "timestamps": {"1"}, "container": {"c"}}, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Encode(); got != "follow=true&sinceTime=2024-05-01T10%3A00%3A00Z&tailLines=10&timestamps=true" {
		t.Fatalf("kubelet query %q", got)
	}
	invalid := []struct {
		q    url.Values
		want string
	}{
		{url.Values{"tailLines": {"-1"}}, `PodLogOptions "x" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0`},
		{url.Values{"limitBytes": {"0"}}, `limitBytes: Invalid value: 0: must be greater than 0`},
		{url.Values{"sinceSeconds": {"0"}}, `sinceSeconds: Invalid value: 0: must be greater than 0`},
		{url.Values{"sinceSeconds": {"5"}, "sinceTime": {"2024-05-01T10:00:00Z"}}, "at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{url.Values{"stream": {"Stdout"}, "tailLines": {"1"}}, "mutually exclusive"},
		{url.Values{"stream": {"Both"}}, `stream: Unsupported value: "Both"`},
	}
	for _, c := range invalid {
		_, err := logParams(c.q, "x")
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want Invalid containing %q", c.q, err, c.want)
		}
	}
	for _, q := range []url.Values{{"follow": {"maybe"}}, {"tailLines": {"ten"}}, {"sinceTime": {"today"}}} {
		if _, err := logParams(q, "x"); !apierrors.IsBadRequest(err) {
			t.Errorf("%v: got %v, want BadRequest", q, err)
		}
	}
}

func TestSplitSchemeNamePort(t *testing.T) {
	cases := map[string][4]string{
		"web":            {"", "web", "", "ok"},
		"web:8080":       {"", "web", "8080", "ok"},
		"https:web:443":  {"https", "web", "443", "ok"},
		"ftp:web:21":     {"", "", "", ""},
		"a:b:c:d":        {"", "", "", ""},
		":8080":          {"", "", "", ""},
		"http:web:named": {"http", "web", "named", "ok"},
	}
	for in, want := range cases {
		s, n, p, ok := splitSchemeNamePort(in)
		if s != want[0] || n != want[1] || p != want[2] || ok != (want[3] == "ok") {
			t.Errorf("%q: got %q %q %q %v", in, s, n, p, ok)
		}
	}
}

func TestKubeletHost(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	if _, err := kubeletHost(n); err == nil {
		t.Fatal("a node without addresses has a kubelet host")
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}
	if h, _ := kubeletHost(n); h != "10.0.0.1:10250" {
		t.Fatalf("got %q", h)
	}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = 10350
	if h, _ := kubeletHost(n); h != "10.0.0.1:10350" {
		t.Fatalf("got %q", h)
	}
	n.Labels = map[string]string{"node.minik8s.io/simulated": "true"}
	if _, err := kubeletHost(n); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("a simulated node's made-up address was dialable: %v", err)
	}
}
