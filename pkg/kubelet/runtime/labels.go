// Package runtime translates between pods and the CRI: the labels that tie runtime
// objects to pods, the sandbox and container configurations, and the runtime's view
// of a pod for the lifecycle package.
package runtime

// Labels and annotations on sandboxes and containers, named as upstream's kubelet
// names them so that crictl output reads the same.
const (
	LabelPodName           = "io.kubernetes.pod.name"
	LabelPodNamespace      = "io.kubernetes.pod.namespace"
	LabelPodUID            = "io.kubernetes.pod.uid"
	LabelContainerName     = "io.kubernetes.container.name"
	LabelContainerType     = "io.kubernetes.container.type"
	AnnotationHash         = "io.kubernetes.container.hash"
	AnnotationRestarts     = "io.kubernetes.container.restartCount"
	AnnotationTermPath     = "io.kubernetes.container.terminationMessagePath"
	AnnotationTermPolicy   = "io.kubernetes.container.terminationMessagePolicy"
	AnnotationGracePeriod  = "io.kubernetes.pod.terminationGracePeriod"
	AnnotationConfigSource = "kubernetes.io/config.source"
)
