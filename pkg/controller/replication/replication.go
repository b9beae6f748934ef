// Package replication runs the ReplicaSet controller for ReplicationControllers,
// as upstream does: a ReplicationController is seen as a ReplicaSet whose
// selector is a plain label map, converted on the way in and out.
package replication

import (
	"context"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"

	"github.com/minik8s/minik8s/pkg/controller/replicaset"
)

// Name is the controller's name, as upstream's.
const Name = "replicationcontroller-controller"

var kind = corev1.SchemeGroupVersion.WithKind("ReplicationController")

// Config wires the controller.
type Config struct {
	Client                 kubernetes.Interface
	ReplicationControllers coreinformers.ReplicationControllerInformer
	Pods                   coreinformers.PodInformer
	Recorder               events.EventRecorder
	Workers                int
	Now                    func() time.Time
	Log                    *slog.Logger
}

// New builds the ReplicaSet controller over ReplicationControllers.
func New(cfg Config) (*replicaset.Controller, error) {
	var src replicaset.Source
	if cfg.ReplicationControllers != nil {
		src = &source{client: cfg.Client, informer: cfg.ReplicationControllers.Informer()}
	}
	return replicaset.New(replicaset.Config{Name: Name, Client: cfg.Client, Source: src, Pods: cfg.Pods,
		Recorder: cfg.Recorder, Workers: cfg.Workers, Now: cfg.Now, Log: cfg.Log})
}

type source struct {
	client   kubernetes.Interface
	informer cache.SharedIndexInformer
}

func (s *source) Kind() schema.GroupVersionKind       { return kind }
func (s *source) Informer() cache.SharedIndexInformer { return s.informer }

func (s *source) AsReplicaSet(obj interface{}) (*appsv1.ReplicaSet, bool) {
	rc, ok := obj.(*corev1.ReplicationController)
	if !ok {
		return nil, false
	}
	return toReplicaSet(rc), true
}

func (s *source) Get(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	rc, err := s.client.CoreV1().ReplicationControllers(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return toReplicaSet(rc), nil
}

func (s *source) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	rc, err := s.client.CoreV1().ReplicationControllers(rs.Namespace).UpdateStatus(ctx, fromReplicaSet(rs), metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	return toReplicaSet(rc), nil
}

// toReplicaSet sees rc as a ReplicaSet. It shares rc's maps (the caller treats
// it as read-only, or deep-copies it) and keeps rc's kind in TypeMeta, so events
// and messages name the ReplicationController.
func toReplicaSet(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: kind.GroupVersion().String(), Kind: kind.Kind},
		ObjectMeta: rc.ObjectMeta,
		Spec: appsv1.ReplicaSetSpec{Replicas: rc.Spec.Replicas, MinReadySeconds: rc.Spec.MinReadySeconds,
			Selector: &metav1.LabelSelector{MatchLabels: rc.Spec.Selector}},
		Status: appsv1.ReplicaSetStatus{Replicas: rc.Status.Replicas, FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas: rc.Status.ReadyReplicas, AvailableReplicas: rc.Status.AvailableReplicas, ObservedGeneration: rc.Status.ObservedGeneration},
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{Type: appsv1.ReplicaSetConditionType(c.Type),
			Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return rs
}

// fromReplicaSet turns a ReplicaSet view back into the ReplicationController.
func fromReplicaSet(rs *appsv1.ReplicaSet) *corev1.ReplicationController {
	t := rs.Spec.Template
	rc := &corev1.ReplicationController{ObjectMeta: rs.ObjectMeta,
		Spec: corev1.ReplicationControllerSpec{Replicas: rs.Spec.Replicas, MinReadySeconds: rs.Spec.MinReadySeconds, Template: &t},
		Status: corev1.ReplicationControllerStatus{Replicas: rs.Status.Replicas, FullyLabeledReplicas: rs.Status.FullyLabeledReplicas,
			ReadyReplicas: rs.Status.ReadyReplicas, AvailableReplicas: rs.Status.AvailableReplicas, ObservedGeneration: rs.Status.ObservedGeneration}}
	if rs.Spec.Selector != nil {
		rc.Spec.Selector = rs.Spec.Selector.MatchLabels
	}
	for _, c := range rs.Status.Conditions {
		rc.Status.Conditions = append(rc.Status.Conditions, corev1.ReplicationControllerCondition{Type: corev1.ReplicationControllerConditionType(c.Type),
			Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return rc
}
