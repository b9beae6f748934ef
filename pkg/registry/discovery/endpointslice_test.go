package discovery

import (
	"context"
	"reflect"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func port(n int32) discoveryv1.EndpointPort { return discoveryv1.EndpointPort{Port: &n} }

func TestEndpointSlices(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []string
	}{
		{"pod addresses of the slice's family are valid", nil, []string{}},
		{"an address type is required", func(s *discoveryv1.EndpointSlice) { s.AddressType = "" }, []string{"FieldValueRequired addressType"}},
		{"loopback addresses are refused", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses[0] = "127.0.0.1" },
			[]string{"FieldValueInvalid endpoints[0].addresses[0]"}},
		{"an IPv6 address in an IPv4 slice is reported on the list", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses[0] = "fd00::1" },
			[]string{"FieldValueInvalid endpoints[0].addresses"}},
		{"two unnamed ports clash", func(s *discoveryv1.EndpointSlice) { s.Ports = append(s.Ports, port(81)) },
			[]string{"FieldValueDuplicate ports[1].name"}},
		{"an endpoint needs an address", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = nil },
			[]string{"FieldValueRequired endpoints[0].addresses"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "default"},
				AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{port(80)},
				Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.5"}}}}
			if tt.mutate != nil {
				tt.mutate(s)
			}
			r := EndpointSlices()
			r.Strategy.Default(s)
			r.Strategy.PrepareForCreate(context.Background(), s)
			if got := problems(r.Strategy.Validate(context.Background(), s)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEndpointSliceDefaultsGenerationAndTable(t *testing.T) {
	r := EndpointSlices()
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-abc"}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports:     []discoveryv1.EndpointPort{port(80), port(443), port(8080), port(9090)},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1", "10.0.0.2"}}}}
	r.Strategy.Default(s)
	r.Strategy.PrepareForCreate(context.Background(), s)
	if *s.Ports[0].Name != "" || *s.Ports[0].Protocol != "TCP" || s.Generation != 1 {
		t.Errorf("port %+v generation %d", s.Ports[0], s.Generation)
	}
	cells, _ := r.Table.Row(s)
	if cells[2] != "80,443,8080 + 1 more..." || cells[3] != "10.0.0.1,10.0.0.2" {
		t.Errorf("cells %v", cells)
	}
	changed := s.DeepCopy()
	changed.Endpoints[0].Addresses = []string{"10.0.0.3"}
	r.Strategy.PrepareForUpdate(context.Background(), changed, s)
	relabelled := s.DeepCopy()
	relabelled.Labels = map[string]string{"a": "b"}
	r.Strategy.PrepareForUpdate(context.Background(), relabelled, s)
	annotated := s.DeepCopy()
	annotated.Annotations = map[string]string{"a": "b"}
	r.Strategy.PrepareForUpdate(context.Background(), annotated, s)
	if changed.Generation != 2 || relabelled.Generation != 2 || annotated.Generation != 1 {
		t.Errorf("generations %d after an endpoint change, %d after a label change, %d after an annotation change; want 2, 2 and 1",
			changed.Generation, relabelled.Generation, annotated.Generation)
	}
	if got := sliceEndpoints(nil); got != "<unset>" {
		t.Errorf("no endpoints print %q", got)
	}
}
