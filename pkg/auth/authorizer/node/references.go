package node

import (
	corev1 "k8s.io/api/core/v1"
)

// kind is a type of object a node may read through the pods bound to it.
type kind uint8

const (
	secretKind kind = iota
	configMapKind
	pvcKind
	serviceAccountKind
	resourceClaimKind
)

var kindNames = [...]string{"secret", "configmap", "persistentvolumeclaim", "serviceaccount", "resourceclaim"}

func (k kind) String() string { return kindNames[k] }

// ref names one object in the pod's namespace.
type ref struct {
	kind      kind
	namespace string
	name      string
}

// podReferences lists the objects a pod makes its node need: its service
// account, the Secrets and ConfigMaps of its volumes, environment and image
// pull secrets, its claims (persistent, ephemeral and resource claims). A
// mirror pod references nothing: the API does not let it.
func podReferences(pod *corev1.Pod) []ref {
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return nil
	}
	var refs []ref
	seen := map[ref]bool{}
	add := func(k kind, name string) {
		r := ref{kind: k, namespace: pod.Namespace, name: name}
		if name != "" && !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	add(serviceAccountKind, pod.Spec.ServiceAccountName)
	for _, s := range pod.Spec.ImagePullSecrets {
		add(secretKind, s.Name)
	}
	visitContainers(&pod.Spec, func(c *corev1.Container) {
		for _, from := range c.EnvFrom {
			if from.SecretRef != nil {
				add(secretKind, from.SecretRef.Name)
			}
			if from.ConfigMapRef != nil {
				add(configMapKind, from.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if e.ValueFrom.SecretKeyRef != nil {
				add(secretKind, e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				add(configMapKind, e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	})
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		for _, s := range volumeSecrets(&v.VolumeSource) {
			add(secretKind, s)
		}
		if v.ConfigMap != nil {
			add(configMapKind, v.ConfigMap.Name)
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					add(configMapKind, src.ConfigMap.Name)
				}
			}
		}
		switch {
		case v.PersistentVolumeClaim != nil:
			add(pvcKind, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			// The ephemeral volume controller names the claim <pod>-<volume>.
			add(pvcKind, pod.Name+"-"+v.Name)
		}
	}
	for _, c := range pod.Spec.ResourceClaims {
		add(resourceClaimKind, resourceClaimName(pod, &c))
	}
	if s := pod.Status.ExtendedResourceClaimStatus; s != nil {
		add(resourceClaimKind, s.ResourceClaimName)
	}
	return refs
}

func visitContainers(spec *corev1.PodSpec, fn func(*corev1.Container)) {
	for i := range spec.InitContainers {
		fn(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		fn(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		fn((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

// volumeSecrets names the Secrets a pod volume reads.
func volumeSecrets(v *corev1.VolumeSource) []string {
	var out []string
	local := func(r *corev1.LocalObjectReference) {
		if r != nil {
			out = append(out, r.Name)
		}
	}
	switch {
	case v.Secret != nil:
		out = append(out, v.Secret.SecretName)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				out = append(out, src.Secret.Name)
			}
		}
	case v.AzureFile != nil:
		out = append(out, v.AzureFile.SecretName)
	case v.CephFS != nil:
		local(v.CephFS.SecretRef)
	case v.Cinder != nil:
		local(v.Cinder.SecretRef)
	case v.FlexVolume != nil:
		local(v.FlexVolume.SecretRef)
	case v.RBD != nil:
		local(v.RBD.SecretRef)
	case v.ScaleIO != nil:
		local(v.ScaleIO.SecretRef)
	case v.ISCSI != nil:
		local(v.ISCSI.SecretRef)
	case v.StorageOS != nil:
		local(v.StorageOS.SecretRef)
	case v.CSI != nil:
		local(v.CSI.NodePublishSecretRef)
	}
	return out
}

// resourceClaimName is the claim a pod's resource claim entry stands for: the
// named claim, or the one generated from its template, once recorded in status.
func resourceClaimName(pod *corev1.Pod, c *corev1.PodResourceClaim) string {
	if c.ResourceClaimName != nil {
		return *c.ResourceClaimName
	}
	for _, s := range pod.Status.ResourceClaimStatuses {
		if s.Name == c.Name && s.ResourceClaimName != nil {
			return *s.ResourceClaimName
		}
	}
	return ""
}

// pvSecrets names the Secrets a PersistentVolume makes its kubelet read
// (mount and stage secrets; not the controller's), with their namespaces.
func pvSecrets(pv *corev1.PersistentVolume) []ref {
	var out []ref
	add := func(ns, name string) {
		if name != "" {
			out = append(out, ref{kind: secretKind, namespace: ns, name: name})
		}
	}
	claimNS := ""
	if pv.Spec.ClaimRef != nil {
		claimNS = pv.Spec.ClaimRef.Namespace
	}
	sref := func(r *corev1.SecretReference) {
		if r != nil {
			ns := r.Namespace
			if ns == "" {
				ns = claimNS
			}
			add(ns, r.Name)
		}
	}
	s := &pv.Spec.PersistentVolumeSource
	switch {
	case s.CSI != nil:
		sref(s.CSI.NodePublishSecretRef)
		sref(s.CSI.NodeStageSecretRef)
		sref(s.CSI.NodeExpandSecretRef)
	case s.AzureFile != nil:
		ns := claimNS
		if s.AzureFile.SecretNamespace != nil && *s.AzureFile.SecretNamespace != "" {
			ns = *s.AzureFile.SecretNamespace
		}
		add(ns, s.AzureFile.SecretName)
	case s.CephFS != nil:
		sref(s.CephFS.SecretRef)
	case s.Cinder != nil:
		sref(s.Cinder.SecretRef)
	case s.FlexVolume != nil:
		sref(s.FlexVolume.SecretRef)
	case s.RBD != nil:
		sref(s.RBD.SecretRef)
	case s.ScaleIO != nil:
		sref(s.ScaleIO.SecretRef)
	case s.ISCSI != nil:
		sref(s.ISCSI.SecretRef)
	case s.StorageOS != nil && s.StorageOS.SecretRef != nil:
		add(s.StorageOS.SecretRef.Namespace, s.StorageOS.SecretRef.Name)
	}
	return out
}
