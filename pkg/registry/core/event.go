package core

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// eventTTLSeconds is how long etcd keeps an event, upstream's default (--event-ttl=1h).
const eventTTLSeconds = 3600

// Upstream's limits on event fields.
const (
	eventReasonLimit   = 128
	eventActionLimit   = 128
	eventInstanceLimit = 128
	eventNoteLimit     = 1024
)

// Events is core/v1 events, forgotten by etcd an hour after their last write.
func Events() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "events", Kind: "Event", SingularName: "event", ShortNames: []string{"ev"},
		GCPolicy:       registry.GCUnsupported,
		CreateOnUpdate: true,
		Namespaced:     true,
		New:            func() runtime.Object { return &corev1.Event{} },
		NewList:        func() runtime.Object { return &corev1.EventList{} },
		KeyPrefix:      "events",
		// Upstream leaves the names of core/v1 events to the generic check, any
		// path segment, for old clients; events.k8s.io wants DNS subdomains.
		ValidName: func(name string, _ bool) []string { return pathvalidation.IsValidPathSegmentName(name) },
		TTL:       func(runtime.Object) int64 { return eventTTLSeconds },
		Strategy: &registry.Generic{
			Validation:    func(obj runtime.Object) field.ErrorList { return validateEvent(obj.(*corev1.Event)) },
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Fields: eventFields,
		Table:  eventTable,
	}
}

// validateEvent applies upstream's rules for core/v1 events: old-style events need
// only a matching namespace; those with an eventTime need their reporter.
func validateEvent(ev *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if ev.EventTime.IsZero() {
		if ev.InvolvedObject.Namespace == "" {
			if ev.Namespace != metav1.NamespaceNone && ev.Namespace != metav1.NamespaceDefault {
				errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if ev.Namespace != ev.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if ev.InvolvedObject.Namespace == "" && ev.Namespace != metav1.NamespaceDefault && ev.Namespace != metav1.NamespaceSystem {
			errs = append(errs, field.Invalid(nsPath, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		rc := field.NewPath("reportingComponent")
		if ev.ReportingController == "" {
			errs = append(errs, field.Required(rc, ""))
		}
		errs = append(errs, podspec.QualifiedName(ev.ReportingController, rc)...)
		if ev.ReportingInstance == "" {
			errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
		}
		if len(ev.ReportingInstance) > eventInstanceLimit {
			errs = append(errs, field.Invalid(field.NewPath("reportingInstance"), "", fmt.Sprintf("can have at most %v characters", eventInstanceLimit)))
		}
		if ev.Action == "" {
			errs = append(errs, field.Required(field.NewPath("action"), ""))
		}
		if len(ev.Action) > eventActionLimit {
			errs = append(errs, field.Invalid(field.NewPath("action"), "", fmt.Sprintf("can have at most %v characters", eventActionLimit)))
		}
		if ev.Reason == "" {
			errs = append(errs, field.Required(field.NewPath("reason"), ""))
		}
		if len(ev.Reason) > eventReasonLimit {
			errs = append(errs, field.Invalid(field.NewPath("reason"), "", fmt.Sprintf("can have at most %v characters", eventReasonLimit)))
		}
		if len(ev.Message) > eventNoteLimit {
			errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", eventNoteLimit)))
		}
	}
	for _, msg := range validation.IsDNS1123Subdomain(ev.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("namespace"), ev.Namespace, msg))
	}
	return errs
}

func eventFields(obj runtime.Object) map[string]string {
	ev := obj.(*corev1.Event)
	source := ev.Source.Component
	if source == "" {
		source = ev.ReportingController
	}
	return map[string]string{
		"involvedObject.kind":            ev.InvolvedObject.Kind,
		"involvedObject.namespace":       ev.InvolvedObject.Namespace,
		"involvedObject.name":            ev.InvolvedObject.Name,
		"involvedObject.uid":             string(ev.InvolvedObject.UID),
		"involvedObject.apiVersion":      ev.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": ev.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       ev.InvolvedObject.FieldPath,
		"reason":                         ev.Reason,
		"reportingComponent":             ev.ReportingController,
		"source":                         source,
		"type":                           ev.Type,
	}
}

var eventTable = &registry.Table{
	Cols: []metav1.TableColumnDefinition{
		registry.Col("Last Seen", "string", corev1.Event{}.SwaggerDoc()["lastTimestamp"], 0),
		registry.Col("Type", "string", corev1.Event{}.SwaggerDoc()["type"], 0),
		registry.Col("Reason", "string", corev1.Event{}.SwaggerDoc()["reason"], 0),
		registry.Col("Object", "string", corev1.Event{}.SwaggerDoc()["involvedObject"], 0),
		registry.Col("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"], 1),
		registry.Col("Source", "string", corev1.Event{}.SwaggerDoc()["source"], 1),
		registry.Col("Message", "string", corev1.Event{}.SwaggerDoc()["message"], 0),
		registry.Col("First Seen", "string", corev1.Event{}.SwaggerDoc()["firstTimestamp"], 1),
		registry.Col("Count", "string", corev1.Event{}.SwaggerDoc()["count"], 1),
		{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: registry.NameDescription},
	},
	Cells: func(obj runtime.Object) []interface{} {
		ev := obj.(*corev1.Event)
		first := registry.Age(ev.FirstTimestamp)
		if ev.FirstTimestamp.IsZero() {
			first = microAge(ev.EventTime)
		}
		last := registry.Age(ev.LastTimestamp)
		if ev.LastTimestamp.IsZero() {
			last = first
		}
		count := ev.Count
		if ev.Series != nil {
			last = microAge(ev.Series.LastObservedTime)
			count = ev.Series.Count
		} else if count == 0 {
			count = 1
		}
		target := strings.ToLower(ev.InvolvedObject.Kind)
		if ev.InvolvedObject.Name != "" {
			target += "/" + ev.InvolvedObject.Name
		}
		return []interface{}{last, ev.Type, ev.Reason, target, ev.InvolvedObject.FieldPath,
			eventSource(ev), strings.TrimSpace(ev.Message), first, int64(count), ev.Name}
	},
}

func microAge(t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return registry.Age(metav1.NewTime(t.Time))
}

// eventSource is "component, host", falling back to the reporting fields.
func eventSource(ev *corev1.Event) string {
	component, host := ev.Source.Component, ev.Source.Host
	if component == "" {
		component = ev.ReportingController
	}
	if host == "" {
		host = ev.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
