// Package envvars computes a container's environment as upstream's kubelet does:
// service links first, then envFrom sources, then env entries in order, each able to
// refer to the ones before it with $(NAME).
package envvars

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/minik8s/minik8s/pkg/kubelet/fieldpath"
)

// Resolver resolves environments.
type Resolver struct {
	Client kubernetes.Interface
	// Services lists Services for service links; nil disables them.
	Services corelisters.ServiceLister
	// Allocatable is the node's, for resourceFieldRef limits a container leaves unset.
	Allocatable func() corev1.ResourceList
	Recorder    record.EventRecorder
}

// Env returns the container's environment, in the order the runtime gets it.
func (r *Resolver) Env(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]corev1.EnvVar, error) {
	var out []corev1.EnvVar
	vals := map[string]string{}
	set := func(name, value string) {
		if _, ok := vals[name]; !ok {
			out = append(out, corev1.EnvVar{Name: name})
		}
		vals[name] = value
	}
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		links, err := r.serviceLinks(pod.Namespace)
		if err != nil {
			return nil, err
		}
		for _, kv := range links {
			set(kv.Name, kv.Value)
		}
	}
	for _, from := range c.EnvFrom {
		data, err := r.envFrom(ctx, pod, from)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var invalid []string
		for _, k := range keys {
			name := from.Prefix + k
			if errs := validation.IsEnvVarName(name); len(errs) > 0 {
				invalid = append(invalid, name)
				continue
			}
			set(name, data[k])
		}
		if len(invalid) > 0 && r.Recorder != nil {
			r.Recorder.Eventf(pod, corev1.EventTypeWarning, "InvalidEnvironmentVariableNames",
				"Keys [%s] from the EnvFrom %s %s/%s were skipped since they are considered invalid environment variable names.",
				strings.Join(invalid, ", "), sourceKind(from), pod.Namespace, sourceName(from))
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, Expand(e.Value, vals))
			continue
		}
		v, ok, err := r.valueFrom(ctx, pod, c, e.ValueFrom)
		if err != nil {
			return nil, err
		}
		if ok {
			set(e.Name, v)
		}
	}
	for i := range out {
		out[i].Value = vals[out[i].Name]
	}
	return out, nil
}

func sourceKind(from corev1.EnvFromSource) string {
	if from.SecretRef != nil {
		return "secret"
	}
	return "configMap"
}

func sourceName(from corev1.EnvFromSource) string {
	if from.SecretRef != nil {
		return from.SecretRef.Name
	}
	if from.ConfigMapRef != nil {
		return from.ConfigMapRef.Name
	}
	return ""
}

func (r *Resolver) envFrom(ctx context.Context, pod *corev1.Pod, from corev1.EnvFromSource) (map[string]string, error) {
	switch {
	case from.ConfigMapRef != nil:
		cm, err := r.Client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(from.ConfigMapRef.Optional) {
				return nil, nil
			}
			return nil, notFound("configmap", from.ConfigMapRef.Name, err)
		}
		return cm.Data, nil
	case from.SecretRef != nil:
		s, err := r.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(from.SecretRef.Optional) {
				return nil, nil
			}
			return nil, notFound("secret", from.SecretRef.Name, err)
		}
		out := map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

func (r *Resolver) valueFrom(ctx context.Context, pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource) (string, bool, error) {
	switch {
	case src.FieldRef != nil:
		v, err := fieldpath.Field(pod, src.FieldRef.FieldPath)
		return v, err == nil, err
	case src.ResourceFieldRef != nil:
		var alloc corev1.ResourceList
		if r.Allocatable != nil {
			alloc = r.Allocatable()
		}
		v, err := fieldpath.Resource(pod, c, src.ResourceFieldRef, alloc)
		return v, err == nil, err
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		cm, err := r.Client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, notFound("configmap", ref.Name, err)
		}
		if v, ok := cm.Data[ref.Key]; ok {
			return v, true, nil
		}
		if v, ok := cm.BinaryData[ref.Key]; ok {
			return string(v), true, nil
		}
		if optional(ref.Optional) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		s, err := r.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, notFound("secret", ref.Name, err)
		}
		if v, ok := s.Data[ref.Key]; ok {
			return string(v), true, nil
		}
		if optional(ref.Optional) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
	}
	return "", false, nil
}

func optional(b *bool) bool { return b != nil && *b }

func notFound(kind, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %q not found", kind, name)
	}
	return fmt.Errorf("get %s %q: %w", kind, name, err)
}

// serviceLinks returns the docker-link style variables of the namespace's services
// (and the master service), as upstream's kubelet writes them.
func (r *Resolver) serviceLinks(namespace string) ([]corev1.EnvVar, error) {
	if r.Services == nil {
		return nil, nil
	}
	svcs, err := r.Services.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	byName := map[string]*corev1.Service{}
	for _, s := range svcs {
		if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		switch {
		case s.Namespace == namespace:
			byName[s.Name] = s
		case s.Namespace == metav1.NamespaceDefault && s.Name == "kubernetes":
			if _, ok := byName[s.Name]; !ok {
				byName[s.Name] = s
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []corev1.EnvVar
	for _, n := range names {
		out = append(out, linkVars(byName[n])...)
	}
	return out, nil
}

func linkVars(s *corev1.Service) []corev1.EnvVar {
	prefix := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
	ip := s.Spec.ClusterIP
	var out []corev1.EnvVar
	out = append(out, corev1.EnvVar{Name: prefix + "_SERVICE_HOST", Value: ip})
	if len(s.Spec.Ports) == 0 {
		return out
	}
	first := s.Spec.Ports[0]
	out = append(out, corev1.EnvVar{Name: prefix + "_SERVICE_PORT", Value: strconv.Itoa(int(first.Port))})
	for _, p := range s.Spec.Ports {
		if p.Name != "" {
			pn := strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_"))
			out = append(out, corev1.EnvVar{Name: prefix + "_SERVICE_PORT_" + pn, Value: strconv.Itoa(int(p.Port))})
		}
	}
	proto := strings.ToLower(string(first.Protocol))
	out = append(out, corev1.EnvVar{Name: prefix + "_PORT", Value: fmt.Sprintf("%s://%s:%d", proto, ip, first.Port)})
	for _, p := range s.Spec.Ports {
		proto := strings.ToLower(string(p.Protocol))
		base := fmt.Sprintf("%s_PORT_%d_%s", prefix, p.Port, strings.ToUpper(proto))
		out = append(out,
			corev1.EnvVar{Name: base, Value: fmt.Sprintf("%s://%s:%d", proto, ip, p.Port)},
			corev1.EnvVar{Name: base + "_PROTO", Value: proto},
			corev1.EnvVar{Name: base + "_PORT", Value: strconv.Itoa(int(p.Port))},
			corev1.EnvVar{Name: base + "_ADDR", Value: ip})
	}
	return out
}

// Expand replaces $(NAME) with the named value, as upstream expands env values,
// command, args and subPathExpr: $$ escapes a dollar; unknown names stay as written.
func Expand(s string, vals map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vals[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
