// Package core describes the core/v1 resources: names, storage, defaults,
// validation, tables and field selectors, following upstream's behaviour.
package core

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Options configure the core resources.
type Options struct {
	// ServiceCIDR is where Service cluster IPs come from; its first address is the
	// `kubernetes` Service's. Empty means 10.96.0.0/12.
	ServiceCIDR string
	// NodePortRange is where node ports come from, "first-last". Empty means 30000-32767.
	NodePortRange string
}

// Defaults of Options, upstream's.
const (
	DefaultServiceCIDR   = "10.96.0.0/12"
	DefaultNodePortRange = "30000-32767"
)

// Resources returns every core/v1 resource.
func Resources(opts Options) ([]*registry.Resource, error) {
	if opts.ServiceCIDR == "" {
		opts.ServiceCIDR = DefaultServiceCIDR
	}
	if opts.NodePortRange == "" {
		opts.NodePortRange = DefaultNodePortRange
	}
	alloc, err := newServiceAllocator(opts.ServiceCIDR, opts.NodePortRange)
	if err != nil {
		return nil, err
	}
	serviceAccounts := ServiceAccounts()
	pods := Pods()
	return []*registry.Resource{
		Namespaces(),
		ConfigMaps(),
		pods,
		Bindings(pods),
		Services(alloc),
		Endpoints(),
		Nodes(),
		Events(),
		serviceAccounts,
		Secrets(),
		ReplicationControllers(),
		ResourceQuotas(),
		LimitRanges(),
		PersistentVolumes(),
		PersistentVolumeClaims(),
		PodTemplates(),
		ComponentStatuses(),
	}, nil
}

// KubernetesService is the `kubernetes` Service in the default namespace, which
// names the API server inside the cluster: the first address of the service
// range, port 443 onto the API server's port. Its endpoints are the API server's
// address, which whoever knows the node's address publishes.
func KubernetesService(firstIP string, apiServerPort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: firstIP,
			Ports: []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443,
				TargetPort: intstr.FromInt32(apiServerPort)}},
			SessionAffinity: corev1.ServiceAffinityNone,
		},
	}
}
