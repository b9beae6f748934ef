// Package podcontrol creates and deletes the pods of workload controllers the
// way upstream's do, recording an event on the controller for each: pods are
// built from the controller's template with a controller reference, named
// "<controller name>-<random>", created in slow-start batches.
package podcontrol

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
)

// Event reasons, as upstream's.
const (
	SuccessfulCreate = "SuccessfulCreate"
	FailedCreate     = "FailedCreate"
	SuccessfulDelete = "SuccessfulDelete"
	FailedDelete     = "FailedDelete"
)

// maxNote is the longest note events.k8s.io accepts.
const maxNote = 1024

// Note formats an event note, cut to what events.k8s.io accepts: an event with
// a long error in it is still recorded.
func Note(format string, args ...interface{}) string {
	s := fmt.Sprintf(format, args...)
	if len(s) <= maxNote {
		return s
	}
	s = s[:maxNote-3]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// NamePrefix is the generateName of a controller's pods: "<name>-", or the bare
// name when that would not be a valid prefix.
func NamePrefix(controllerName string) string {
	prefix := controllerName + "-"
	if len(apivalidation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return controllerName
	}
	return prefix
}

// FromTemplate builds the pod a controller creates from its template.
func FromTemplate(template *corev1.PodTemplateSpec, controllerName string, ref *metav1.OwnerReference) *corev1.Pod {
	t := template.DeepCopy()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		GenerateName: NamePrefix(controllerName),
		Labels:       t.Labels,
		Annotations:  t.Annotations,
		Finalizers:   t.Finalizers,
	}, Spec: t.Spec}
	if ref != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return pod
}

// Control creates and deletes pods on behalf of a controller object.
type Control struct {
	Client   kubernetes.Interface
	Recorder events.EventRecorder
}

// Create creates a pod from template for controller (the object events are
// recorded on), in namespace.
func (c *Control) Create(ctx context.Context, namespace string, template *corev1.PodTemplateSpec, controller runtime.Object, controllerName string, ref *metav1.OwnerReference) (*corev1.Pod, error) {
	return c.CreatePod(ctx, namespace, FromTemplate(template, controllerName, ref), controller)
}

// CreatePod creates a pod already built from a template (a Job's indexed pods
// carry their own name prefix, hostname and annotations), with the same events
// as Create.
func (c *Control) CreatePod(ctx context.Context, namespace string, pod *corev1.Pod, controller runtime.Object) (*corev1.Pod, error) {
	if len(pod.Labels) == 0 {
		return nil, errors.New("unable to create pods, no labels")
	}
	created, err := c.Client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		// A terminating namespace refuses every create: no need to say so each time.
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.Recorder.Eventf(controller, nil, corev1.EventTypeWarning, FailedCreate, "Create", "%s", Note("Error creating: %v", err))
		}
		return nil, err
	}
	c.Recorder.Eventf(controller, created, corev1.EventTypeNormal, SuccessfulCreate, "Create", "%s", Note("Created pod: %v", created.Name))
	return created, nil
}

// Delete deletes pod on behalf of controller. A pod already gone is reported as
// NotFound without an event.
func (c *Control) Delete(ctx context.Context, pod *corev1.Pod, controller runtime.Object) error {
	err := c.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		c.Recorder.Eventf(controller, pod, corev1.EventTypeWarning, FailedDelete, "Delete", "%s", Note("Error deleting: %v", err))
		return fmt.Errorf("unable to delete pods: %w", err)
	}
	c.Recorder.Eventf(controller, pod, corev1.EventTypeNormal, SuccessfulDelete, "Delete", "%s", Note("Deleted pod: %v", pod.Name))
	return nil
}
