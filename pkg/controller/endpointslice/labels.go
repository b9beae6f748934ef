package endpointslice

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
)

// reserved are the slice labels the controller owns; a Service's own labels
// of these names are not copied.
func reserved(key string) bool {
	return key == discoveryv1.LabelServiceName || key == discoveryv1.LabelManagedBy || key == corev1.IsHeadlessService
}

// sliceLabels are the labels a slice of svc carries: the Service's labels, the
// service-name and managed-by labels, and the headless label for a Service
// without a cluster IP. changed reports whether the slice's copy of the
// Service's labels is out of date.
func sliceLabels(have map[string]string, svc *corev1.Service, controller string) (map[string]string, bool) {
	mine, want := map[string]string{}, map[string]string{}
	for k, v := range have {
		if !reserved(k) {
			mine[k] = v
		}
	}
	for k, v := range svc.Labels {
		if !reserved(k) {
			want[k] = v
		}
	}
	changed := !maps.Equal(mine, want)
	if !hasClusterIP(svc) {
		want[corev1.IsHeadlessService] = ""
	}
	want[discoveryv1.LabelServiceName] = svc.Name
	want[discoveryv1.LabelManagedBy] = controller
	return want, changed
}

func hasClusterIP(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

// NamePrefix is the generateName of a Service's slices: "<name>-", or the
// name alone when the dash would make it too long.
func NamePrefix(name string) string {
	if len(apivalidation.NameIsDNSSubdomain(name+"-", true)) != 0 {
		return name
	}
	return name + "-"
}
