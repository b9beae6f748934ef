package networking

import (
	"context"
	"reflect"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func create(r *registry.Resource, obj runtime.Object) []string {
	r.Strategy.Default(obj)
	r.Strategy.PrepareForCreate(context.Background(), obj)
	return problems(r.Strategy.Validate(context.Background(), obj))
}

func ingress(mutate func(*networkingv1.Ingress)) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	class := "nginx"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: "foo.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/bar", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: "svc1", Port: networkingv1.ServiceBackendPort{Number: 8080}}}}}}}}}},
	}
	if mutate != nil {
		mutate(ing)
	}
	return ing
}

func TestIngressValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*networkingv1.Ingress)
		want   []string
	}{
		{"a host rule with a prefix path to a service port is valid", nil, []string{}},
		{"an ingress needs rules or a default backend", func(i *networkingv1.Ingress) { i.Spec.Rules = nil },
			[]string{"FieldValueInvalid spec"}},
		{"a host may not be an IP address", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "1.2.3.4" },
			[]string{"FieldValueInvalid spec.rules[0].host"}},
		{"a prefix path must be absolute", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "bar" },
			[]string{"FieldValueInvalid spec.rules[0].http.paths[0].path"}},
		{"a path type is required", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].PathType = nil },
			[]string{"FieldValueRequired spec.rules[0].http.paths[0].pathType"}},
		{"a service backend names a port", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{}
		}, []string{"FieldValueRequired spec.rules[0].http.paths[0].backend"}},
		{"the class annotation must agree with the class name", func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": "other"}
		}, []string{"FieldValueInvalid annotations.kubernetes.io/ingress.class"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := create(Ingresses(), ingress(tt.mutate)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIngressTable(t *testing.T) {
	ing := ingress(func(i *networkingv1.Ingress) {
		i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"foo.com"}}}
		i.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.2"}, {Hostname: "lb.example.com"}, {IP: "10.0.0.2"}}
	})
	cells, _ := Ingresses().Table.Row(ing)
	want := []interface{}{"web", "nginx", "foo.com", "10.0.0.2,lb.example.com", "80, 443", "<unknown>"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells %#v, want %#v", cells, want)
	}
	if got := ingressHosts(make([]networkingv1.IngressRule, 2)); got != "*" {
		t.Errorf("rules without hosts print %q, want *", got)
	}
}

func TestNetworkPolicyDefaultsAndValidation(t *testing.T) {
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "np", Namespace: "default"},
		Spec: networkingv1.NetworkPolicySpec{
			Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: &intstr.IntOrString{IntVal: 80}}}}},
			Egress:  []networkingv1.NetworkPolicyEgressRule{{}},
		}}
	if got := create(NetworkPolicies(), np); len(got) != 0 {
		t.Fatalf("valid policy refused: %v", got)
	}
	if !reflect.DeepEqual(np.Spec.PolicyTypes, []networkingv1.PolicyType{"Ingress", "Egress"}) || *np.Spec.Ingress[0].Ports[0].Protocol != "TCP" {
		t.Errorf("defaults: types %v protocol %v", np.Spec.PolicyTypes, *np.Spec.Ingress[0].Ports[0].Protocol)
	}
	np.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"11.0.0.0/16"}}}, {}}
	want := []string{"FieldValueInvalid spec.ingress[0].from[0].ipBlock.except[0]", "FieldValueRequired spec.ingress[0].from[1]"}
	if got := problems(NetworkPolicies().Strategy.Validate(context.Background(), np)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestIngressClassDefaultsParameterScope(t *testing.T) {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{
		Controller: "example.com/ingress", Parameters: &networkingv1.IngressClassParametersReference{Kind: "Params", Name: "p"}}}
	if got := create(IngressClasses(), ic); len(got) != 0 {
		t.Fatalf("refused: %v", got)
	}
	if *ic.Spec.Parameters.Scope != "Cluster" {
		t.Errorf("scope %q, want Cluster", *ic.Spec.Parameters.Scope)
	}
	ic.Spec.Controller = "not a path"
	if got := problems(IngressClasses().Strategy.Validate(context.Background(), ic)); len(got) == 0 {
		t.Error("a controller that is not a domain-prefixed path was accepted")
	}
}

func TestServiceCIDRs(t *testing.T) {
	tests := []struct {
		name  string
		cidrs []string
		want  []string
	}{
		{"one range is valid", []string{"10.96.0.0/12"}, []string{}},
		{"a dual-stack pair is valid", []string{"10.96.0.0/12", "fd00::/108"}, []string{}},
		{"two ranges of one family are refused", []string{"10.0.0.0/24", "10.1.0.0/24"}, []string{"FieldValueInvalid spec.cidrs"}},
		{"three ranges are refused", []string{"10.0.0.0/24", "fd00::/108", "10.1.0.0/24"}, []string{"FieldValueInvalid spec.cidrs"}},
		{"no range is required", nil, []string{"FieldValueRequired spec.cidrs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: networkingv1.ServiceCIDRSpec{CIDRs: tt.cidrs}}
			if got := create(ServiceCIDRs(), c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := problems(validateCIDRsUpdate([]string{"10.0.0.0/24", "fd00::/108"}, []string{"10.0.0.0/24"})); len(got) != 0 {
		t.Errorf("adding a second family: %v", got)
	}
	if got := problems(validateCIDRsUpdate([]string{"10.9.0.0/24"}, []string{"10.0.0.0/24"})); !reflect.DeepEqual(got, []string{"FieldValueInvalid spec.cidrs[0]"}) {
		t.Errorf("changing a range: %v", got)
	}
}

func TestIPAddressesAreNamedByTheAddress(t *testing.T) {
	r := IPAddresses()
	if msgs := r.ValidName("10.0.0.1", false); len(msgs) != 0 {
		t.Errorf("an IP name refused: %v", msgs)
	}
	if msgs := r.ValidName("web", false); len(msgs) == 0 {
		t.Error("a non-IP name accepted")
	}
	ip := &networkingv1.IPAddress{ObjectMeta: metav1.ObjectMeta{Name: "10.0.0.1"}, Spec: networkingv1.IPAddressSpec{
		ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "kubernetes"}}}
	if got := create(r, ip); len(got) != 0 {
		t.Fatalf("refused: %v", got)
	}
	cells, _ := r.Table.Row(ip)
	if cells[1] != "services/default/kubernetes" {
		t.Errorf("parent printed %q", cells[1])
	}
}
