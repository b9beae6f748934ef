package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A new user's first command: `kubectl run` with no node named. The scheduler
// places the pod on the only node and it starts.
func TestKubectlRunIsScheduledAndRuns(t *testing.T) {
	s := session(t)
	// A node that has just registered carries the not-ready taint until the
	// node lifecycle controller sees it Ready; a pod created before then has one
	// failed attempt, as upstream's would.
	framework.Eventually(t, 60*time.Second, func() error {
		r := s.Do("get", "node", nodeName, "-o", "jsonpath={.spec.taints}")
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
			return fmt.Errorf("node %s not registered or still tainted: %s%s", nodeName, r.Stdout, r.Stderr)
		}
		return nil
	})
	s.Run("run", "web", "--image=busybox:1.36", "--", "sleep", "3600")
	out := s.Run("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
	framework.Contains(t, out, "condition met")
	framework.Contains(t, s.Run("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}"), nodeName)
	events := s.Run("get", "events", "--field-selector", "involvedObject.name=web,reason=Scheduled", "-o", "jsonpath={.items[*].note}{.items[*].message}")
	framework.Contains(t, events, "Successfully assigned "+s.Namespace+"/web to "+nodeName)
	d := s.Run("describe", "pod", "web")
	framework.Matches(t, d, `Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned `+s.Namespace+`/web to `+nodeName)
	if strings.Contains(d, "FailedScheduling") {
		t.Fatalf("pod had a failed scheduling attempt:\n%s", d)
	}
}
