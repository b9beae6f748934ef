package core

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/registry"
)

// ComponentStatuses is core/v1 componentstatuses, read-only. Upstream probes its
// components on each read; minik8s runs them all in one process, so if the API
// server answers they are up: the server stores them healthy once at start
// (ComponentStatusObjects).
func ComponentStatuses() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "componentstatuses", Kind: "ComponentStatus", SingularName: "componentstatus", ShortNames: []string{"cs"},
		New:       func() runtime.Object { return &corev1.ComponentStatus{} },
		NewList:   func() runtime.Object { return &corev1.ComponentStatusList{} },
		KeyPrefix: "componentstatuses",
		Verbs:     []string{"get", "list"},
		Strategy:  &registry.Generic{NoStatusSplit: true, NoGeneration: true},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Status", "string", "Status of the component conditions", 0),
				registry.Col("Message", "string", "Message of the component conditions", 0),
				registry.Col("Error", "string", "Error of the component conditions", 0)},
			Cells: func(obj runtime.Object) []interface{} {
				cs := obj.(*corev1.ComponentStatus)
				status, message, errText := "Unknown", "", ""
				for _, c := range cs.Conditions {
					if c.Type == corev1.ComponentHealthy {
						status = "Unhealthy"
						if c.Status == corev1.ConditionTrue {
							status = "Healthy"
						}
						message, errText = c.Message, c.Error
						break
					}
				}
				return []interface{}{cs.Name, status, message, errText}
			},
		},
	}
}

// ComponentStatusObjects are the components every minik8s server runs, healthy.
func ComponentStatusObjects() []*corev1.ComponentStatus {
	var out []*corev1.ComponentStatus
	for _, name := range []string{"scheduler", "controller-manager", "etcd-0"} {
		out = append(out, &corev1.ComponentStatus{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Conditions: []corev1.ComponentCondition{{Type: corev1.ComponentHealthy, Status: corev1.ConditionTrue, Message: "ok"}},
		})
	}
	return out
}
