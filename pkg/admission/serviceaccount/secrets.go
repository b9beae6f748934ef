package serviceaccount

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/minik8s/minik8s/pkg/admission"
)

// SecretNames lists the secrets a pod references anywhere: pull secrets,
// volumes and their secret references, environment variables.
func SecretNames(pod *corev1.Pod) []string {
	var out []string
	add := func(ref *corev1.LocalObjectReference) {
		if ref != nil && ref.Name != "" {
			out = append(out, ref.Name)
		}
	}
	for _, s := range pod.Spec.ImagePullSecrets {
		out = append(out, s.Name)
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.Secret != nil:
			out = append(out, v.Secret.SecretName)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					out = append(out, s.Secret.Name)
				}
			}
		case v.CSI != nil:
			add(v.CSI.NodePublishSecretRef)
		case v.CephFS != nil:
			add(v.CephFS.SecretRef)
		case v.Cinder != nil:
			add(v.Cinder.SecretRef)
		case v.FlexVolume != nil:
			add(v.FlexVolume.SecretRef)
		case v.ISCSI != nil:
			add(v.ISCSI.SecretRef)
		case v.RBD != nil:
			add(v.RBD.SecretRef)
		case v.ScaleIO != nil:
			add(v.ScaleIO.SecretRef)
		case v.StorageOS != nil:
			add(v.StorageOS.SecretRef)
		case v.AzureFile != nil:
			out = append(out, v.AzureFile.SecretName)
		}
	}
	visitEnv := func(env []corev1.EnvVar, from []corev1.EnvFromSource) {
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out = append(out, e.ValueFrom.SecretKeyRef.Name)
			}
		}
		for _, f := range from {
			if f.SecretRef != nil {
				out = append(out, f.SecretRef.Name)
			}
		}
	}
	for _, c := range pod.Spec.InitContainers {
		visitEnv(c.Env, c.EnvFrom)
	}
	for _, c := range pod.Spec.Containers {
		visitEnv(c.Env, c.EnvFrom)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		visitEnv(c.Env, c.EnvFrom)
	}
	return out
}

func mountable(sa *corev1.ServiceAccount) sets.Set[string] {
	s := sets.New[string]()
	for _, ref := range sa.Secrets {
		s.Insert(ref.Name)
	}
	return s
}

// limitSecretReferences refuses secrets the account does not list, worded as upstream.
func limitSecretReferences(sa *corev1.ServiceAccount, pod *corev1.Pod) error {
	allowed := mountable(sa)
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && !allowed.Has(v.Secret.SecretName) {
			return fmt.Errorf("volume with secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", v.Secret.SecretName, sa.Name)
		}
	}
	for _, group := range []struct {
		what       string
		containers []corev1.Container
	}{{"init container", pod.Spec.InitContainers}, {"container", pod.Spec.Containers}} {
		for _, c := range group.containers {
			if err := limitEnv(group.what, c.Name, c.Env, c.EnvFrom, allowed, sa.Name); err != nil {
				return err
			}
		}
	}
	pull := sets.New[string]()
	for _, s := range sa.ImagePullSecrets {
		pull.Insert(s.Name)
	}
	for i, ref := range pod.Spec.ImagePullSecrets {
		if !pull.Has(ref.Name) {
			return fmt.Errorf(`imagePullSecrets[%d].name="%s" is not allowed because service account %s does not reference that imagePullSecret`, i, ref.Name, sa.Name)
		}
	}
	return nil
}

func limitEnv(what, name string, env []corev1.EnvVar, from []corev1.EnvFromSource, allowed sets.Set[string], sa string) error {
	for _, e := range env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !allowed.Has(e.ValueFrom.SecretKeyRef.Name) {
			return fmt.Errorf("%s %s with envVar %s referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", what, name, e.Name, e.ValueFrom.SecretKeyRef.Name, sa)
		}
	}
	for _, f := range from {
		if f.SecretRef != nil && !allowed.Has(f.SecretRef.Name) {
			return fmt.Errorf("%s %s with envFrom referencing secret.secretName=\"%s\" is not allowed because service account %s does not reference that secret", what, name, f.SecretRef.Name, sa)
		}
	}
	return nil
}

// limitEphemeral applies the account's limits to ephemeral containers.
func (p *Plugin) limitEphemeral(ctx context.Context, a *admission.Attributes, pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName == "" {
		return a.Forbidden(fmt.Errorf("no service account specified for pod %s/%s", a.Namespace, pod.Name))
	}
	sa, err := p.account(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return a.Forbidden(fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if !enforcesMountable(sa) {
		return nil
	}
	allowed := mountable(sa)
	for _, c := range pod.Spec.EphemeralContainers {
		if err := limitEnv("ephemeral container", c.Name, c.Env, c.EnvFrom, allowed, sa.Name); err != nil {
			return err
		}
	}
	return nil
}
