package volumes

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/fieldpath"
)

// payloadOf computes the files of a configMap, secret, downwardAPI or projected
// volume; ok is false for other volume types.
func (m *Manager) payloadOf(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (map[string]File, bool, error) {
	switch {
	case v.ConfigMap != nil:
		p, err := m.configMapFiles(ctx, pod, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.DefaultMode, v.ConfigMap.Optional)
		return p, true, err
	case v.Secret != nil:
		p, err := m.secretFiles(ctx, pod, v.Secret.SecretName, v.Secret.Items, v.Secret.DefaultMode, v.Secret.Optional)
		return p, true, err
	case v.DownwardAPI != nil:
		p, err := m.downwardFiles(pod, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
		return p, true, err
	case v.Projected != nil:
		p, err := m.projectedFiles(ctx, pod, v.Projected)
		return p, true, err
	}
	return nil, false, nil
}

func modeOr(item *int32, def *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item)
	case def != nil:
		return os.FileMode(*def)
	}
	return 0o644
}

func optional(b *bool) bool { return b != nil && *b }

func (m *Manager) configMapFiles(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, defMode *int32, opt *bool) (map[string]File, error) {
	cm, err := m.cfg.Client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			if optional(opt) {
				return map[string]File{}, nil
			}
			return nil, fmt.Errorf("configmap %q not found", name)
		}
		return nil, fmt.Errorf("get configmap %q: %w", name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles("configmap", name, data, items, defMode, opt)
}

func (m *Manager) secretFiles(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, defMode *int32, opt *bool) (map[string]File, error) {
	s, err := m.cfg.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			if optional(opt) {
				return map[string]File{}, nil
			}
			return nil, fmt.Errorf("secret %q not found", name)
		}
		return nil, fmt.Errorf("get secret %q: %w", name, err)
	}
	return keyFiles("secret", name, s.Data, items, defMode, opt)
}

// keyFiles maps data keys to files: every key by its own name, or only the items.
func keyFiles(kind, name string, data map[string][]byte, items []corev1.KeyToPath, defMode *int32, opt *bool) (map[string]File, error) {
	out := map[string]File{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = File{Data: v, Mode: modeOr(nil, defMode)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional(opt) {
				continue
			}
			return nil, fmt.Errorf("configure volume: key %q not found in %s %q", it.Key, kind, name)
		}
		out[it.Path] = File{Data: v, Mode: modeOr(it.Mode, defMode)}
	}
	return out, nil
}

func (m *Manager) downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defMode *int32) (map[string]File, error) {
	out := map[string]File{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = fieldpath.Field(pod, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			v, err = fieldpath.Resource(pod, nil, it.ResourceFieldRef, m.allocatable())
		}
		if err != nil {
			return nil, err
		}
		out[it.Path] = File{Data: []byte(v), Mode: modeOr(it.Mode, defMode)}
	}
	return out, nil
}

func (m *Manager) projectedFiles(ctx context.Context, pod *corev1.Pod, p *corev1.ProjectedVolumeSource) (map[string]File, error) {
	out := map[string]File{}
	merge := func(files map[string]File) {
		for k, v := range files {
			out[k] = v
		}
	}
	for _, src := range p.Sources {
		switch {
		case src.ConfigMap != nil:
			f, err := m.configMapFiles(ctx, pod, src.ConfigMap.Name, src.ConfigMap.Items, p.DefaultMode, src.ConfigMap.Optional)
			if err != nil {
				return nil, err
			}
			merge(f)
		case src.Secret != nil:
			f, err := m.secretFiles(ctx, pod, src.Secret.Name, src.Secret.Items, p.DefaultMode, src.Secret.Optional)
			if err != nil {
				return nil, err
			}
			merge(f)
		case src.DownwardAPI != nil:
			f, err := m.downwardFiles(pod, src.DownwardAPI.Items, p.DefaultMode)
			if err != nil {
				return nil, err
			}
			merge(f)
		case src.ServiceAccountToken != nil:
			token, err := m.tokens.token(ctx, pod, src.ServiceAccountToken)
			if err != nil {
				return nil, err
			}
			f := File{Data: []byte(token), Mode: modeOr(nil, p.DefaultMode)}
			// A token is for its pod's user alone: with an fsUser or fsGroup it is
			// 0600 (0640 once the fsGroup owns it), as upstream writes it.
			if user, group := fsUserOf(pod), fsGroupOf(pod); user != nil || group != nil {
				f.Mode, f.Owner = 0o600, user
			}
			out[src.ServiceAccountToken.Path] = f
		}
	}
	return out, nil
}
