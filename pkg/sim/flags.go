package sim

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ParseLabels reads key=value pairs, as `kubectl label` takes them.
func ParseLabels(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("label %q: want key=value", p)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("label %q: invalid key: %s", p, errs[0])
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("label %q: invalid value: %s", p, errs[0])
		}
		out[k] = v
	}
	return out, nil
}

// ParseTaints reads key[=value]:Effect taints, as `kubectl taint` takes them.
func ParseTaints(specs []string) ([]corev1.Taint, error) {
	var out []corev1.Taint
	seen := map[string]bool{}
	for _, s := range specs {
		kv, effect, ok := strings.Cut(s, ":")
		if !ok || kv == "" {
			return nil, fmt.Errorf("taint %q: want key[=value]:effect", s)
		}
		t := corev1.Taint{Effect: corev1.TaintEffect(effect)}
		t.Key, t.Value, _ = strings.Cut(kv, "=")
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("taint %q: unsupported effect %q: must be NoSchedule, PreferNoSchedule or NoExecute", s, effect)
		}
		if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
			return nil, fmt.Errorf("taint %q: invalid key: %s", s, errs[0])
		}
		if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
			return nil, fmt.Errorf("taint %q: invalid value: %s", s, errs[0])
		}
		if id := t.Key + ":" + string(t.Effect); seen[id] {
			return nil, fmt.Errorf("taint %q: a taint with key %q and effect %s is given twice", s, t.Key, t.Effect)
		} else {
			seen[id] = true
		}
		out = append(out, t)
	}
	return out, nil
}
