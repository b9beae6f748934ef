package sim

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseLabels(t *testing.T) {
	cases := []struct {
		name string
		in   []string
		want map[string]string
		err  string
	}{
		{"pairs become labels", []string{"a=b", "example.com/pool=big"}, map[string]string{"a": "b", "example.com/pool": "big"}, ""},
		{"an empty value is allowed", []string{"a="}, map[string]string{"a": ""}, ""},
		{"a pair without = is refused", []string{"a"}, nil, "want key=value"},
		{"an invalid key is refused", []string{"-a=b"}, nil, "invalid key"},
		{"an invalid value is refused", []string{"a=b/c"}, nil, "invalid value"},
	}
	for _, c := range cases {
		got, err := ParseLabels(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v", c.name, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, %v", c.name, got, err)
		}
	}
}

func TestParseTaints(t *testing.T) {
	cases := []struct {
		name string
		in   []string
		want []corev1.Taint
		err  string
	}{
		{"key=value:effect", []string{"gpu=true:NoSchedule"}, []corev1.Taint{{Key: "gpu", Value: "true", Effect: "NoSchedule"}}, ""},
		{"key:effect without a value", []string{"dedicated:NoExecute"}, []corev1.Taint{{Key: "dedicated", Effect: "NoExecute"}}, ""},
		{"the same key with two effects is two taints", []string{"a:NoSchedule", "a:PreferNoSchedule"},
			[]corev1.Taint{{Key: "a", Effect: "NoSchedule"}, {Key: "a", Effect: "PreferNoSchedule"}}, ""},
		{"a taint without an effect is refused", []string{"gpu=true"}, nil, "want key[=value]:effect"},
		{"an unknown effect is refused", []string{"gpu=true:Never"}, nil, `unsupported effect "Never"`},
		{"an invalid key is refused", []string{"g pu:NoSchedule"}, nil, "invalid key"},
		{"the same key and effect twice is refused", []string{"a:NoSchedule", "a=b:NoSchedule"}, nil, "given twice"},
	}
	for _, c := range cases {
		got, err := ParseTaints(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v", c.name, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, %v", c.name, got, err)
		}
	}
}
