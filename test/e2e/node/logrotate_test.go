package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A container that writes more than --container-log-max-size (256Ki here) has its
// log rotated, as upstream's kubelet does: the old part is renamed beside the live
// file, the runtime writes on into a new one, and kubectl logs shows what comes next.
func TestLogRotation(t *testing.T) {
	s := session(t)
	// About 4000 lines of 100 bytes, then one line a second.
	s.Apply(pod("chatty", "Always", container("c", "busybox:1.36", "sh", "-c",
		`i=0; while [ $i -lt 4000 ]; do echo "early-$i-0123456789012345678901234567890123456789012345678901234567890123456789012345"; i=$((i+1)); done; `+
			`while true; do echo "later-$i"; i=$((i+1)); sleep 1; done`)))
	s.Run("wait", "--for=condition=Ready", "pod/chatty", "--timeout=60s")
	uid := s.Run("get", "pod", "chatty", "-o", "jsonpath={.metadata.uid}")
	logDir := filepath.Join(cluster.DataDir, "agent", "logs", "pods", fmt.Sprintf("%s_chatty_%s", s.Namespace, uid), "c")
	// The agent looks every 10 s.
	framework.Eventually(t, 45*time.Second, func() error {
		rotated, err := filepath.Glob(filepath.Join(logDir, "0.log.*"))
		if err != nil || len(rotated) == 0 {
			return fmt.Errorf("no rotated log in %s yet (%v)", logDir, err)
		}
		return nil
	})
	framework.Eventually(t, 20*time.Second, func() error {
		out := s.Run("logs", "chatty")
		if !strings.Contains(out, "later-") || strings.Contains(out, "early-0-") {
			return fmt.Errorf("logs after rotation should hold only the newer lines: %.200q", out)
		}
		return nil
	})
}

// A restarting container keeps the logs of its current and previous instance only,
// as upstream's kubelet does: older ones go with the instances they belong to.
func TestLogsOfOldInstancesAreRemoved(t *testing.T) {
	s := session(t)
	s.Apply(pod("crasher", "Always", container("c", "busybox:1.36", "sh", "-c", "echo run; exit 1")))
	// Restarts come after back-offs of 10 s and 20 s.
	framework.Eventually(t, 90*time.Second, func() error {
		n := s.Do("get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].restartCount}").Stdout
		if v, _ := strconv.Atoi(n); v < 2 {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	uid := s.Run("get", "pod", "crasher", "-o", "jsonpath={.metadata.uid}")
	logDir := filepath.Join(cluster.DataDir, "agent", "logs", "pods", fmt.Sprintf("%s_crasher_%s", s.Namespace, uid), "c")
	framework.Eventually(t, 10*time.Second, func() error {
		if _, err := os.Stat(filepath.Join(logDir, "0.log")); !os.IsNotExist(err) {
			return fmt.Errorf("the first instance's log is still there (%v)", err)
		}
		return nil
	})
	framework.Contains(t, s.Run("logs", "crasher", "--previous"), "run")
}
