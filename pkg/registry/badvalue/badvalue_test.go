package badvalue

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestInternalRendersAPIStructsUnderGoFieldNames(t *testing.T) {
	half := intstr.FromString("50%")
	one := intstr.FromInt32(1)
	policy := policyv1.IfHealthyBudget
	tests := []struct {
		name string
		in   interface{}
		want string // a trailing comma means "starts with"
	}{
		{"a strategy with only its type set shows the unset rolling update as null",
			appsv1.DeploymentStrategy{Type: "Sideways"}, `{"Type":"Sideways","RollingUpdate":null}`},
		{"int-or-string amounts keep their own form",
			policyv1.PodDisruptionBudgetSpec{MinAvailable: &half, MaxUnavailable: &one, UnhealthyPodEvictionPolicy: &policy},
			`{"MinAvailable":"50%","Selector":null,"MaxUnavailable":1,"UnhealthyPodEvictionPolicy":"IfHealthyBudget"}`},
		{"a pointer to an API struct is looked through",
			&appsv1.RollingUpdateStatefulSetStrategy{}, `{"Partition":null,"MaxUnavailable":null}`},
		{"values of other packages marshal as usual", []string{"a"}, `["a"]`},
		{"embedded object metadata is inlined under its JSON names",
			corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}},
			`{"labels":{"app":"x"},"Spec":{"Volumes":null,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(Internal(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want && !(strings.HasSuffix(tt.want, ",") && strings.HasPrefix(string(got), tt.want)) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
