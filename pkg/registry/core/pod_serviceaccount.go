package core

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// Where and under which volume name upstream's ServiceAccount admission mounts
// the API credentials: a bound token, the cluster CA and the namespace.
const (
	tokenVolumePrefix = "kube-api-access-"
	tokenMountPath    = "/var/run/secrets/kubernetes.io/serviceaccount"
	// tokenExpirySeconds is upstream's 3607: an hour, marked as an
	// auto-mounted token by its extra seconds.
	tokenExpirySeconds = 3607
)

// tokenMounter adds the API access volume to new pods, as upstream's
// ServiceAccount admission plugin does. It reads the pod's ServiceAccount from
// the cache for its automount setting; a missing account does not stop the pod.
type tokenMounter struct {
	serviceAccounts *registry.Resource
}

// automount follows upstream: the pod's setting wins, then the account's, then yes.
func (m *tokenMounter) automount(pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if m == nil || m.serviceAccounts == nil || m.serviceAccounts.Store == nil {
		return true
	}
	st := m.serviceAccounts.Store
	obj, err := st.Get(context.Background(), st.Key(pod.Namespace, pod.Spec.ServiceAccountName), pod.Spec.ServiceAccountName,
		storage.ReadOptions{ResourceVersion: "0"})
	if err != nil {
		return true
	}
	if sa, ok := obj.(*corev1.ServiceAccount); ok && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mount adds the volume and a read-only mount in every container that has
// nothing at the token path yet.
func (m *tokenMounter) mount(pod *corev1.Pod) {
	if pod.Spec.ServiceAccountName == "" || !m.automount(pod) {
		return
	}
	name := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, tokenVolumePrefix) {
			name = v.Name
			break
		}
	}
	hasVolume := name != ""
	if !hasVolume {
		name = tokenVolumePrefix + utilrand.String(5)
	}
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: tokenMountPath}
	needed := false
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			mounted := false
			for _, vm := range list[i].VolumeMounts {
				if vm.MountPath == tokenMountPath {
					mounted = true
					break
				}
			}
			if !mounted {
				list[i].VolumeMounts = append(list[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	if hasVolume || !needed {
		return
	}
	expiry := int64(tokenExpirySeconds)
	mode := corev1.ProjectedVolumeSourceDefaultMode
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{DefaultMode: &mode, Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &expiry, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		}},
	}})
}
