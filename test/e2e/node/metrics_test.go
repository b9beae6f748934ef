package node

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The node's metrics endpoints, read through the API server's node proxy as a
// user (and metrics-server, and Prometheus) reads them: a running pod shows up
// with its usage, its probe results and in the node's counts.
func TestNodeMetricsEndpoints(t *testing.T) {
	s := session(t)
	c := withSpec(container("c", "busybox:1.36", "sh", "-c", "while true; do :; done"), `    readinessProbe:
      exec:
        command: ["true"]
      periodSeconds: 1
`)
	s.Apply(pod("busy", "Always", c))
	s.Run("wait", "--for=condition=Ready", "pod/busy", "--timeout=60s")
	raw := func(path string) string { return s.Run("get", "--raw", "/api/v1/nodes/"+nodeName+"/proxy"+path) }
	series := fmt.Sprintf(`container="c",namespace="%s",pod="busy"`, s.Namespace)

	// metrics-server's endpoint: the container's cumulative CPU, with the
	// sample's timestamp, and the node's.
	framework.Eventually(t, 30*time.Second, func() error {
		out := raw("/metrics/resource")
		for _, re := range []string{
			`container_cpu_usage_seconds_total\{` + regexp.QuoteMeta(series) + `\} [0-9.e+]+ \d{13}`,
			`container_memory_working_set_bytes\{` + regexp.QuoteMeta(series) + `\} [0-9.e+]+ \d{13}`,
			`pod_cpu_usage_seconds_total\{namespace="` + s.Namespace + `",pod="busy"\} [0-9.e+]+ \d{13}`,
			`node_cpu_usage_seconds_total [0-9.e+]+ \d{13}`,
			`resource_scrape_error 0`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				return fmt.Errorf("/metrics/resource has no %s:\n%s", re, out)
			}
		}
		return nil
	})
	framework.Contains(t, raw("/metrics/resource"),
		"# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds",
		"# TYPE container_cpu_usage_seconds_total counter")

	// cAdvisor's names and labels: the container's cgroup and runtime ID.
	cadvisor := raw("/metrics/cadvisor")
	framework.Matches(t, cadvisor, `container_memory_working_set_bytes\{container="c",id="/[^"]+",image="[^"]+",name="[0-9a-f]{64}",namespace="`+s.Namespace+`",pod="busy"\}`)
	framework.Contains(t, cadvisor, `container_cpu_usage_seconds_total{container="",cpu="total",id="/"`)

	// The agent's own registry.
	own := raw("/metrics")
	framework.Contains(t, own, `kubelet_node_name{node="`+nodeName+`"} 1`, `kubelet_running_containers{container_state="running"}`,
		"kubelet_running_pods ", "kubelet_pod_start_duration_seconds_count", "go_goroutines", "process_resident_memory_bytes")

	// Probe results by container.
	framework.Eventually(t, 30*time.Second, func() error {
		out := raw("/metrics/probes")
		want := fmt.Sprintf(`prober_probe_total{container="c",namespace="%s",pod="busy",pod_uid=`, s.Namespace)
		if !strings.Contains(out, want) || !strings.Contains(out, `probe_type="Readiness",result="successful"}`) {
			return fmt.Errorf("/metrics/probes has no successful readiness count for busy:\n%s", out)
		}
		return nil
	})
}
