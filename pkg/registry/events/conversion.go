package events

import (
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
)

// AddConversions registers the core/v1 <-> events.k8s.io/v1 Event conversions.
func AddConversions(s *runtime.Scheme) error {
	if err := s.AddConversionFunc((*corev1.Event)(nil), (*eventsv1.Event)(nil), func(a, b interface{}, _ conversion.Scope) error {
		FromCore(a.(*corev1.Event), b.(*eventsv1.Event))
		return nil
	}); err != nil {
		return err
	}
	return s.AddConversionFunc((*eventsv1.Event)(nil), (*corev1.Event)(nil), func(a, b interface{}, _ conversion.Scope) error {
		ToCore(a.(*eventsv1.Event), b.(*corev1.Event))
		return nil
	})
}

// ToCore writes an events/v1 event in the core/v1 form: note is the message,
// regarding the involved object, and the deprecated fields the old ones.
func ToCore(in *eventsv1.Event, out *corev1.Event) {
	out.TypeMeta = in.TypeMeta
	if in.Kind != "" {
		out.APIVersion = corev1.SchemeGroupVersion.String()
	}
	out.ObjectMeta = *in.ObjectMeta.DeepCopy()
	out.InvolvedObject = in.Regarding
	out.Reason = in.Reason
	out.Message = in.Note
	out.Source = in.DeprecatedSource
	out.FirstTimestamp = in.DeprecatedFirstTimestamp
	out.LastTimestamp = in.DeprecatedLastTimestamp
	out.Count = in.DeprecatedCount
	out.Type = in.Type
	out.EventTime = in.EventTime
	out.Series = nil
	if in.Series != nil {
		out.Series = &corev1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
	}
	out.Action = in.Action
	out.Related = in.Related.DeepCopy()
	out.ReportingController = in.ReportingController
	out.ReportingInstance = in.ReportingInstance
}

// FromCore writes a core/v1 event in the events/v1 form.
func FromCore(in *corev1.Event, out *eventsv1.Event) {
	out.TypeMeta = in.TypeMeta
	if in.Kind != "" {
		out.APIVersion = eventsv1.SchemeGroupVersion.String()
	}
	out.ObjectMeta = *in.ObjectMeta.DeepCopy()
	out.EventTime = in.EventTime
	out.Series = nil
	if in.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
	}
	out.ReportingController = in.ReportingController
	out.ReportingInstance = in.ReportingInstance
	out.Action = in.Action
	out.Reason = in.Reason
	out.Regarding = in.InvolvedObject
	out.Related = in.Related.DeepCopy()
	out.Note = in.Message
	out.Type = in.Type
	out.DeprecatedSource = in.Source
	out.DeprecatedFirstTimestamp = in.FirstTimestamp
	out.DeprecatedLastTimestamp = in.LastTimestamp
	out.DeprecatedCount = in.Count
}
