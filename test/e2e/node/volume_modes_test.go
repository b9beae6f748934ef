package node

import (
	"fmt"
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// Volumes have upstream's modes, and a non-root pod with an fsGroup can write its
// tmpfs emptyDir and read its secrets of mode 0440 through the group.
func TestVolumeModesAndFSGroup(t *testing.T) {
	s := session(t)
	s.Run("create", "secret", "generic", "modes", "--from-literal=data-1=value-1")
	// busybox stat: %A is ls -l's mode; -L follows the ..data symlinks.
	script := `for p in /mem /disk /sub; do echo "$p $(stat -c '%A %u %g' $p)"; done; ` +
		`echo new > /mem/f && echo "/mem/f $(stat -c '%A %u %g' /mem/f)"; ` +
		`echo new > /sub/f && echo "/sub/f $(stat -c '%u %g' /sub/f)"; ` +
		`for p in /sec/data-1 /psec/data-1 /var/run/secrets/kubernetes.io/serviceaccount/token; do echo "$p $(stat -L -c '%A %u %g' $p)"; done; ` +
		`echo "content $(cat /sec/data-1) $(cat /psec/data-1)"; ` +
		`if touch /sec/x 2>/dev/null; then echo secret-writable; else echo secret-read-only; fi; ` +
		`echo groups $(id -G); echo done`
	m := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: fsgroup
spec:
  nodeName: %s
  restartPolicy: Never
  securityContext: {runAsUser: 1001, fsGroup: 123}
  containers:
  - name: c
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", %q]
    volumeMounts:
    - {name: mem, mountPath: /mem}
    - {name: disk, mountPath: /disk}
    - {name: mem2, mountPath: /sub, subPath: test-sub}
    - {name: sec, mountPath: /sec}
    - {name: psec, mountPath: /psec}
  volumes:
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: mem2, emptyDir: {medium: Memory}}
  - {name: disk, emptyDir: {}}
  - {name: sec, secret: {secretName: modes, defaultMode: 0440}}
  - {name: psec, projected: {defaultMode: 0440, sources: [{secret: {name: modes}}]}}
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  nodeName: %s
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo \"/mem $(stat -c '%%A %%u %%g' /mem)\"; echo \"/disk $(stat -c '%%A %%u %%g' /disk)\""]
    volumeMounts:
    - {name: mem, mountPath: /mem}
    - {name: disk, mountPath: /disk}
  volumes:
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: disk, emptyDir: {}}
`, nodeName, script, nodeName)
	s.Apply(m)
	waitField(t, s, "fsgroup", "{.status.containerStatuses[0].state.terminated.reason}", "Completed")
	waitField(t, s, "plain", "{.status.containerStatuses[0].state.terminated.reason}", "Completed")
	out := containerLog(t, s, "fsgroup", "c")
	for _, want := range []string{
		"/mem drwxrwsrwt 0 123\n",  // tmpfs root 1777 plus the fsGroup's setgid
		"/disk drwxrwsrwx 0 123\n", // 0777 plus setgid
		"/sub drwxrwsrwt 0 123\n",  // a new subPath is made like its volume root
		"/mem/f -rw-r--r-- 1001 123\n",
		"/sub/f 1001 123\n",
		"/sec/data-1 -r--r----- 0 123\n",
		"/psec/data-1 -r--r----- 0 123\n",
		"/var/run/secrets/kubernetes.io/serviceaccount/token -rw-r----- 1001 123\n",
		"content value-1 value-1\n",
		"secret-read-only\n",
		"done\n",
	} {
		framework.Contains(t, out, want)
	}
	plain := containerLog(t, s, "plain", "c")
	framework.Contains(t, plain, "/mem drwxrwxrwt 0 0\n")
	framework.Contains(t, plain, "/disk drwxrwxrwx 0 0\n")
}
