// Package events serves events.k8s.io/v1 Events. They are the same objects as
// core/v1 Events, stored once under "events" in the core/v1 form; this package
// converts between the two and checks events/v1 writes by events/v1 rules.
package events

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// TTLSeconds is how long an event is kept, upstream's default --event-ttl.
const TTLSeconds = 60 * 60

// Resources returns every events.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{Events()} }

// Events is events.k8s.io/v1 events, stored as core/v1 Events.
func Events() *registry.Resource {
	return &registry.Resource{
		Group: "events.k8s.io", Version: "v1", Name: "events", Kind: "Event", SingularName: "event",
		GCPolicy:       registry.GCUnsupported,
		CreateOnUpdate: true,
		ShortNames:     []string{"ev"}, Namespaced: true,
		New:         func() runtime.Object { return &eventsv1.Event{} },
		NewList:     func() runtime.Object { return &eventsv1.EventList{} },
		KeyPrefix:   "events",
		StorageKind: corev1.SchemeGroupVersion.WithKind("Event"),
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList { return validateEvent(asCore(obj)) },
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateEventUpdate(asCore(obj), asCore(old))
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		TTL:    func(runtime.Object) int64 { return TTLSeconds },
		Fields: eventFields,
		Table:  eventTable(),
	}
}

// asCore is the core/v1 form of an events/v1 event.
func asCore(obj runtime.Object) *corev1.Event {
	out := &corev1.Event{}
	if e, ok := obj.(*eventsv1.Event); ok {
		ToCore(e, out)
	}
	return out
}

// eventFields are the field selectors of events.k8s.io, named as in that API.
func eventFields(obj runtime.Object) map[string]string {
	e := obj.(*eventsv1.Event)
	return map[string]string{
		"reason":                    e.Reason,
		"type":                      e.Type,
		"reportingController":       e.ReportingController,
		"regarding.kind":            e.Regarding.Kind,
		"regarding.namespace":       e.Regarding.Namespace,
		"regarding.name":            e.Regarding.Name,
		"regarding.uid":             string(e.Regarding.UID),
		"regarding.apiVersion":      e.Regarding.APIVersion,
		"regarding.resourceVersion": e.Regarding.ResourceVersion,
		"regarding.fieldPath":       e.Regarding.FieldPath,
	}
}

func eventTable() *registry.Table {
	doc := corev1.Event{}.SwaggerDoc()
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{
			registry.Col("Last Seen", "string", doc["lastTimestamp"], 0),
			registry.Col("Type", "string", doc["type"], 0),
			registry.Col("Reason", "string", doc["reason"], 0),
			registry.Col("Object", "string", doc["involvedObject"], 0),
			registry.Col("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"], 1),
			registry.Col("Source", "string", doc["source"], 1),
			registry.Col("Message", "string", doc["message"], 0),
			registry.Col("First Seen", "string", doc["firstTimestamp"], 1),
			registry.Col("Count", "string", doc["count"], 1),
			{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: registry.NameDescription},
		},
		Cells: func(obj runtime.Object) []interface{} { return EventCells(asCore(obj)) },
	}
}

// EventCells prints an event as kubectl's events table does, wide columns included.
func EventCells(e *corev1.Event) []interface{} {
	first := registry.Age(e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		first = microAge(e.EventTime)
	}
	last := registry.Age(e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = microAge(e.Series.LastObservedTime)
		count = e.Series.Count
	} else if count == 0 {
		// Events of the new API are singletons without a count.
		count = 1
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	return []interface{}{last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath,
		eventSource(e), strings.TrimSpace(e.Message), first, int64(count), e.Name}
}

func microAge(t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// eventSource prints "component, host", each from the old field or else the
// new one.
func eventSource(e *corev1.Event) string {
	component, host := e.Source.Component, e.Source.Host
	if component == "" {
		component = e.ReportingController
	}
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return fmt.Sprintf("%s, %s", component, host)
}
