package manager

import (
	"context"
	"log/slog"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/events"
	metricsv1beta1 "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"
)

// Runnable is a built controller: it works until ctx ends. An error ends the
// controller manager (and with it the server), so controllers return one only
// when they cannot work at all.
type Runnable interface {
	Run(ctx context.Context) error
}

// RunnableFunc lets a function be a Runnable.
type RunnableFunc func(ctx context.Context) error

// Run implements Runnable.
func (f RunnableFunc) Run(ctx context.Context) error { return f(ctx) }

// ControllerContext is everything a controller is built from. The informer
// factories are shared: a controller asks them for the informers it needs and
// the manager starts them once every controller is built.
type ControllerContext struct {
	Client   kubernetes.Interface
	Metadata metadata.Interface
	// Discovery is cached; the garbage collector refreshes it.
	Discovery discovery.CachedDiscoveryInterface
	// Informers hold typed objects without their managedFields.
	Informers informers.SharedInformerFactory
	// MetadataInformers hold only the metadata of any resource (the garbage collector's view).
	MetadataInformers metadatainformer.SharedInformerFactory
	// RESTMapper maps kinds to resources from discovery; Scales reads and
	// writes any resource's scale subresource; ResourceMetrics reads
	// metrics.k8s.io. The last two are nil when the manager has no REST config
	// (tests).
	RESTMapper      meta.ResettableRESTMapper
	Scales          scale.ScalesGetter
	ResourceMetrics metricsv1beta1.MetricsV1beta1Interface
	Config          Config
	// Log is already labelled with the controller's name.
	Log *slog.Logger

	events events.EventBroadcaster
}

// Recorder returns an events.k8s.io/v1 recorder that reports as controller
// (upstream's component names, e.g. "replicaset-controller").
func (c ControllerContext) Recorder(controller string) events.EventRecorder {
	return c.events.NewRecorder(scheme.Scheme, controller)
}

// dropManagedFields is the informers' transform: controllers never read managed
// fields, which are often the largest part of an object, so the caches keep none.
func dropManagedFields(obj interface{}) (interface{}, error) {
	if m, err := meta.Accessor(obj); err == nil && m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
