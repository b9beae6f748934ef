package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// kubectl debug adds an ephemeral container to a running pod: the node agent
// starts it in the pod's sandbox, in its target's process namespace, reports it
// in ephemeralContainerStatuses and never restarts it; exec and logs reach it.
func TestDebugEphemeralContainer(t *testing.T) {
	s := session(t)
	s.Apply(pod("target", "Always", container("app", "busybox:1.36", "sleep", "7777")))
	s.Run("wait", "--for=condition=Ready", "pod/target", "--timeout=60s")

	s.Run("debug", "target", "--image=busybox:1.36", "--image-pull-policy=IfNotPresent", "--target=app", "-c", "debugger",
		"--", "sh", "-c", "echo polo; sleep 3600")
	waitField(t, s, "target", "{.status.ephemeralContainerStatuses[0].name}", "debugger")
	framework.Eventually(t, 60*time.Second, func() error {
		if st := s.Do("get", "pod", "target", "-o", "jsonpath={.status.ephemeralContainerStatuses[0].state.running.startedAt}").Stdout; st == "" {
			return fmt.Errorf("debugger not running: %s", s.Do("get", "pod", "target", "-o", "jsonpath={.status.ephemeralContainerStatuses}").Stdout)
		}
		return nil
	})
	framework.Contains(t, s.Run("get", "pod", "target", "-o", "jsonpath={.metadata.generation}"), "2")
	// The target's processes are visible from the debugging container.
	framework.Contains(t, s.Run("exec", "target", "-c", "debugger", "--", "ps"), "sleep 7777")
	framework.Contains(t, s.Run("exec", "target", "-c", "debugger", "--", "echo", "marco"), "marco")
	framework.Contains(t, s.Run("logs", "target", "-c", "debugger"), "polo")
	framework.Matches(t, s.Run("get", "pod", "target"), `target\s+1/1\s+Running\s+0`)

	// An ephemeral container that exits stays terminated.
	s.Run("debug", "target", "--image=busybox:1.36", "--image-pull-policy=IfNotPresent", "-c", "oneshot", "--", "true")
	waitField(t, s, "target", `{.status.ephemeralContainerStatuses[?(@.name=="oneshot")].state.terminated.reason}`, "Completed")
	time.Sleep(3 * time.Second)
	framework.Contains(t, s.Run("get", "pod", "target", "-o", `jsonpath={.status.ephemeralContainerStatuses[?(@.name=="oneshot")].restartCount}`), "0")
	waitField(t, s, "target", `{.status.ephemeralContainerStatuses[?(@.name=="oneshot")].state.terminated.reason}`, "Completed")

	// The interactive path: kubectl debug -i attaches to the new container.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := kubectlCmd(ctx, s, "debug", "-i", "target", "--image=busybox:1.36", "--image-pull-policy=IfNotPresent", "-c", "interactive",
		"--", "sh", "-c", "read line; echo got-$line")
	cmd.Stdin = &slowEOF{r: strings.NewReader("hello\n"), wait: 3 * time.Second}
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "got-hello") {
		t.Fatalf("debug -i: %v\n%s", err, out)
	}
}
