package events

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func newEvent() *eventsv1.Event {
	now := metav1.NewMicroTime(time.Now().Truncate(time.Microsecond))
	return &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "web.1", Namespace: "default"},
		EventTime:  now, ReportingController: "example.com/ctl", ReportingInstance: "ctl-1",
		Action: "Scale", Reason: "Scaled", Type: corev1.EventTypeNormal, Note: "scaled to 3",
		Regarding: corev1.ObjectReference{Kind: "Deployment", Namespace: "default", Name: "web"},
		Series:    &eventsv1.EventSeries{Count: 2, LastObservedTime: now},
	}
}

func TestEventsRoundTripThroughCoreV1(t *testing.T) {
	in := newEvent()
	core := &corev1.Event{}
	ToCore(in, core)
	if core.Message != "scaled to 3" || core.InvolvedObject.Name != "web" || core.Series.Count != 2 {
		t.Errorf("core form %+v", core)
	}
	out := &eventsv1.Event{}
	FromCore(core, out)
	if !equality.Semantic.DeepEqual(in, out) {
		t.Errorf("round trip:\n in %+v\nout %+v", in, out)
	}
}

func TestConversionsWorkThroughAScheme(t *testing.T) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, eventsv1.AddToScheme, AddConversions} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	core := &corev1.Event{Message: "hello", Reason: "R"}
	out := &eventsv1.Event{}
	if err := s.Convert(core, out, nil); err != nil || out.Note != "hello" {
		t.Errorf("converted %+v err %v", out, err)
	}
}

func TestNewAPIEventsNeedTheReportingFields(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*eventsv1.Event)
		want   []string
	}{
		{"a complete event is valid", nil, []string{}},
		{"an event without eventTime, controller and action is refused", func(e *eventsv1.Event) {
			e.EventTime = metav1.MicroTime{}
			e.Series = nil
			e.ReportingController, e.Action = "", ""
		}, []string{"FieldValueRequired eventTime"}},
		{"the reporting fields are required once there is an eventTime, the controller also as a qualified name", func(e *eventsv1.Event) {
			e.ReportingController, e.ReportingInstance, e.Action = "", "", ""
		}, []string{"FieldValueRequired reportingController", "FieldValueInvalid reportingController", "FieldValueInvalid reportingController",
			"FieldValueRequired reportingInstance", "FieldValueRequired action"}},
		{"a type other than Normal or Warning is refused", func(e *eventsv1.Event) { e.Type = "Loud" },
			[]string{"FieldValueInvalid type"}},
		{"deprecated fields must stay unset", func(e *eventsv1.Event) { e.DeprecatedCount = 3 },
			[]string{"FieldValueInvalid count"}},
		{"a series counts at least two", func(e *eventsv1.Event) { e.Series.Count = 1 },
			[]string{"FieldValueInvalid series.count"}},
		{"the regarded object lives in the event's namespace", func(e *eventsv1.Event) { e.Regarding.Namespace = ""; e.Namespace = "other" },
			[]string{"FieldValueInvalid involvedObject.namespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEvent()
			if tt.mutate != nil {
				tt.mutate(e)
			}
			if got := problems(Events().Strategy.Validate(context.Background(), e)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEventUpdatesMayOnlyGrowTheSeries(t *testing.T) {
	old := newEvent()
	grown := old.DeepCopy()
	grown.Series.Count = 3
	if errs := Events().Strategy.ValidateUpdate(context.Background(), grown, old); len(errs) != 0 {
		t.Errorf("growing the series: %v", errs)
	}
	renoted := old.DeepCopy()
	renoted.Note = "else"
	if got := problems(Events().Strategy.ValidateUpdate(context.Background(), renoted, old)); !reflect.DeepEqual(got, []string{"FieldValueInvalid message"}) {
		t.Errorf("changing the note: %v", got)
	}
}

func TestEventFieldsAndTable(t *testing.T) {
	e := newEvent()
	f := Events().Fields(e)
	if f["regarding.name"] != "web" || f["reportingController"] != "example.com/ctl" || f["type"] != "Normal" {
		t.Errorf("fields %v", f)
	}
	cells, _ := Events().Table.Row(e)
	if cells[3] != "deployment/web" || cells[5] != "example.com/ctl, ctl-1" || cells[6] != "scaled to 3" || cells[8] != int64(2) {
		t.Errorf("cells %v", cells)
	}
	if Events().TTL(e) != 3600 {
		t.Errorf("ttl %d, want an hour", Events().TTL(e))
	}
}
