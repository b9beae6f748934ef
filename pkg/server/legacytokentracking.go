package server

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/apiserver"
	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
)

// ensureLegacyTokenTracking writes kube-system's
// kube-apiserver-legacy-service-account-token-tracking ConfigMap, dated today,
// unless it exists with a date: it tells the legacy token cleaner since when
// the last-used labels of secret-based tokens are kept, so that a token
// without one has not been used since then. An unreadable date is put right,
// as upstream's API server does.
func ensureLegacyTokenTracking(ctx context.Context, api *apiserver.Server, now time.Time) error {
	today := now.UTC().Format(serviceaccount.DateFormat)
	cm := legacyTokenTrackingConfigMap(today)
	err := api.Reconcile(ctx, cm, "", func(existing runtime.Object) bool {
		cur, ok := existing.(*corev1.ConfigMap)
		if !ok || trackingDateValid(cur) {
			return true
		}
		// Only the date changes; whatever else the ConfigMap holds stays.
		fixed := cur.DeepCopy()
		if fixed.Data == nil {
			fixed.Data = map[string]string{}
		}
		fixed.Data[serviceaccount.TrackingConfigMapDataKey] = today
		*cm = *fixed
		return false
	})
	if err != nil {
		return fmt.Errorf("ensure the %s ConfigMap: %w", serviceaccount.TrackingConfigMapName, err)
	}
	return nil
}

func legacyTokenTrackingConfigMap(today string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: serviceaccount.TrackingConfigMapName},
		Data:       map[string]string{serviceaccount.TrackingConfigMapDataKey: today},
	}
}

func trackingDateValid(cm *corev1.ConfigMap) bool {
	_, err := time.Parse(serviceaccount.DateFormat, cm.Data[serviceaccount.TrackingConfigMapDataKey])
	return err == nil
}
