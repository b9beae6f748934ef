package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/controller/manager"
	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A server with every controller turned off leaves a Deployment alone until
// `minik8s controller-manager`, pointed at its kubeconfig, runs them.
func TestControllerManagerRunsTheControllersOfAServerWithoutThem(t *testing.T) {
	var all []string
	for _, d := range manager.Descriptors() {
		all = append(all, d.Name)
	}
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent", "--disable-controllers", strings.Join(all, ",")}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	s := framework.NewSession(t, c, framework.KubectlPath(t, ""))
	// Without the service account controller no namespace gets its default
	// account, and pods need one: make it by hand.
	s.Run("create", "serviceaccount", "default")
	framework.Contains(t, s.Run("create", "deployment", "web", "--image=busybox", "--replicas=2"), "deployment.apps/web created")
	cs := c.Client(t)
	ctx := context.Background()
	time.Sleep(2 * time.Second)
	if l, err := cs.AppsV1().ReplicaSets(s.Namespace).List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Fatalf("replica sets without controllers: %v, %v", l, err)
	}

	cm := exec.Command(c.Binary, "controller-manager", "--kubeconfig", c.Kubeconfig)
	log, err := os.Create(filepath.Join(c.DataDir, "controller-manager.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cm.Stdout, cm.Stderr = log, log
	cm.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cm.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cm.Process.Signal(syscall.SIGTERM)
		_ = cm.Wait()
	}()
	framework.Eventually(t, 30*time.Second, func() error {
		pods, err := cs.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		if len(pods.Items) != 2 {
			return errf("%d pods", len(pods.Items))
		}
		return nil
	})
	// The service account and root CA controllers run too.
	framework.Eventually(t, 30*time.Second, func() error {
		_, err := cs.CoreV1().ConfigMaps(s.Namespace).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err
	})
}
