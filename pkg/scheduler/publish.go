package scheduler

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConfigMapName is where a running scheduler publishes the scheduler names it
// serves and its effective configuration, in kube-system: `minik8s why` reads it
// to explain a pod the way the scheduler sees it. A scheduler with a Lease of its
// own publishes under "minik8s-scheduler-<lease>"; all carry ConfigMapLabel.
const ConfigMapName = "minik8s-scheduler"

// ConfigMapLabel marks published scheduler configurations.
const ConfigMapLabel = "scheduler.minik8s.io/configuration"

// Keys of the published ConfigMap.
const (
	ConfigKeyProfiles = "profiles"
	ConfigKeyConfig   = "config.yaml"
)

func (s *Scheduler) publishConfig(ctx context.Context) {
	name := ConfigMapName
	if s.cfg.LeaseName != "kube-scheduler" {
		name += "-" + s.cfg.LeaseName
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "minik8s", ConfigMapLabel: "true"}},
		Data: map[string]string{ConfigKeyProfiles: strings.Join(s.Profiles(), "\n")},
	}
	if len(s.cfg.ConfigYAML) > 0 {
		cm.Data[ConfigKeyConfig] = string(s.cfg.ConfigYAML)
	}
	cms := s.client.CoreV1().ConfigMaps(metav1.NamespaceSystem)
	_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		s.log.Info("could not publish the scheduler configuration", "err", err)
	}
}
