package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The controllers run only while the server holds their Lease, which it
// renews; the election is announced as upstream's LeaderElection event.
func TestControllerManagerHoldsAndRenewsItsLease(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	var first coordinationv1.Lease
	framework.Eventually(t, 30*time.Second, func() error {
		first = getJSON[coordinationv1.Lease](t, s, "lease", "-n", "kube-system", "kube-controller-manager")
		if first.Spec.HolderIdentity == nil || *first.Spec.HolderIdentity == "" || first.Spec.RenewTime == nil {
			return errf("lease spec %+v", first.Spec)
		}
		return nil
	})
	if d := first.Spec.LeaseDurationSeconds; d == nil || *d != 15 {
		t.Errorf("leaseDurationSeconds = %v, want 15", d)
	}
	framework.Eventually(t, 20*time.Second, func() error {
		l := getJSON[coordinationv1.Lease](t, s, "lease", "-n", "kube-system", "kube-controller-manager")
		if *l.Spec.HolderIdentity != *first.Spec.HolderIdentity {
			return errf("holder changed from %s to %s", *first.Spec.HolderIdentity, *l.Spec.HolderIdentity)
		}
		if !l.Spec.RenewTime.After(first.Spec.RenewTime.Time) {
			return errf("renewTime still %s", l.Spec.RenewTime)
		}
		return nil
	})
	framework.Eventually(t, 30*time.Second, func() error {
		return want(s.Run("get", "events", "-n", "kube-system", "--field-selector", "involvedObject.name=kube-controller-manager"),
			*first.Spec.HolderIdentity+" became leader")
	})
}

const ephemeralPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: busybox
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
  volumes:
  - name: scratch
    ephemeral:
      volumeClaimTemplate:
        metadata:
          labels: {type: scratch}
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: ""
          resources:
            requests: {storage: 1Gi}
`

// A generic ephemeral volume's claim is made for the pod, owned by it, and
// goes with it.
func TestAGenericEphemeralVolumeGetsAClaimOwnedByItsPod(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Contains(t, s.Apply(ephemeralPod), "pod/web created")
	var claim corev1.PersistentVolumeClaim
	framework.Eventually(t, 30*time.Second, func() error {
		r := s.Do("get", "pvc", "web-scratch", "-o", "json")
		if r.Code != 0 {
			return errf("no claim yet: %s", r.Stderr)
		}
		claim = getJSON[corev1.PersistentVolumeClaim](t, s, "pvc", "web-scratch")
		if !slices.Contains(claim.Finalizers, "kubernetes.io/pvc-protection") {
			return errf("finalizers %v", claim.Finalizers)
		}
		return nil
	})
	ref := metav1.GetControllerOf(&claim)
	if ref == nil || ref.Kind != "Pod" || ref.Name != "web" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion || claim.Labels["type"] != "scratch" {
		t.Fatalf("claim owner %+v labels %v", claim.OwnerReferences, claim.Labels)
	}
	// No volume and no class: the binder says so, as upstream.
	framework.Eventually(t, 30*time.Second, func() error {
		return want(s.Run("describe", "pvc", "web-scratch"), "no persistent volumes available for this claim and no storage class is set")
	})
	s.Run("delete", "pod", "web", "--force", "--grace-period=0")
	framework.Eventually(t, 30*time.Second, func() error {
		if r := s.Do("get", "pvc", "web-scratch"); r.Code == 0 {
			return errf("claim still there: %s", r.Stdout)
		}
		return nil
	})
}

// A claim in use by a scheduled pod stays Terminating until the pod is gone;
// the volume it was bound to is then Released (static volumes are retained).
func TestAClaimInUseIsKeptUntilItsPodIsGone(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	pvName := s.Namespace + "-pv"
	nodeName := s.Namespace + "-node"
	s.Apply(fmt.Sprintf(`apiVersion: v1
kind: Node
metadata:
  name: %s
  labels: {e2e.minik8s.io/storage: "true"}
`, nodeName))
	s.Apply(fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: %s
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  claimRef: {namespace: %s, name: data}
  hostPath: {path: /tmp/%s}
`, pvName, s.Namespace, pvName))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cluster.Kubectl(ctx, s.Kubectl, "", "delete", "pv", pvName, "--wait=false")
		cluster.Kubectl(ctx, s.Kubectl, "", "delete", "node", nodeName, "--wait=false")
	})
	s.Apply(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  resources:
    requests: {storage: 1Gi}
`)
	framework.Eventually(t, 30*time.Second, func() error {
		return want(s.Run("get", "pvc", "data"), "Bound")
	})
	framework.Matches(t, s.Run("get", "pvc", "data"), `data\s+Bound\s+`+pvName+`\s+2Gi\s+RWO`)
	s.Apply(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: db
spec:
  nodeName: %s
  containers:
  - name: db
    image: busybox
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
`, nodeName))
	s.Run("delete", "pvc", "data", "--wait=false")
	time.Sleep(2 * time.Second)
	claim := getJSON[corev1.PersistentVolumeClaim](t, s, "pvc", "data")
	if claim.DeletionTimestamp == nil || !slices.Contains(claim.Finalizers, "kubernetes.io/pvc-protection") {
		t.Fatalf("claim in use: deletionTimestamp %v finalizers %v", claim.DeletionTimestamp, claim.Finalizers)
	}
	framework.Contains(t, s.Run("get", "pvc", "data"), "Terminating")
	s.Run("delete", "pod", "db", "--force", "--grace-period=0")
	framework.Eventually(t, 30*time.Second, func() error {
		if r := s.Do("get", "pvc", "data"); r.Code == 0 {
			return errf("claim still there: %s", r.Stdout)
		}
		return nil
	})
	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Run("get", "pv", pvName)
		if !strings.Contains(out, "Released") {
			return errf("volume not released:\n%s", out)
		}
		return nil
	})
	pv := getJSON[corev1.PersistentVolume](t, s, "pv", pvName)
	if !slices.Contains(pv.Finalizers, "kubernetes.io/pv-protection") {
		t.Errorf("volume finalizers %v", pv.Finalizers)
	}
}
