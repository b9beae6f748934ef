package apiserver

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/registry"
)

// Connect subresources (exec, attach, port-forward and the proxies) go through
// the admission chain as a CONNECT of their options object before anything is
// proxied, as upstream's ConnectResource does: a refusal is the request's error,
// answered before any upgrade. pods/log is a read and is not admitted.

// admitConnect runs both admission phases for a connect request.
func (s *Server) admitConnect(ctx context.Context, res *registry.Resource, namespace, name, sub string, query url.Values, rest []string) error {
	if s.admission == nil || sub == "log" {
		return nil
	}
	opts, err := connectOptions(res.Name, sub, query, rest)
	if err != nil {
		return err
	}
	if opts == nil {
		return nil
	}
	ctx = withAdmissionWrite(ctx, sub, false)
	a := s.admissionFor(ctx, admission.Connect, res, namespace, name, opts, nil)
	if err := s.mutate(ctx, a); err != nil {
		return err
	}
	return s.validate(ctx, a, nil)
}

// connectOptions is the options object of a connect request, with its kind set
// (the kind admission reports is the options' kind, e.g. v1 PodExecOptions);
// nil for a subresource that has none.
func connectOptions(resource, sub string, q url.Values, rest []string) (runtime.Object, error) {
	path := strings.Join(rest, "/")
	var obj runtime.Object
	switch {
	case resource == "pods" && (sub == "exec" || sub == "attach"):
		var flags [4]bool
		for i, p := range []string{"stdin", "stdout", "stderr", "tty"} {
			v := q.Get(p)
			if v == "" {
				continue
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("parameter %s=%q is not a boolean", p, v))
			}
			flags[i] = b
		}
		if sub == "attach" {
			obj = &corev1.PodAttachOptions{Stdin: flags[0], Stdout: flags[1], Stderr: flags[2], TTY: flags[3], Container: q.Get("container")}
		} else {
			obj = &corev1.PodExecOptions{Stdin: flags[0], Stdout: flags[1], Stderr: flags[2], TTY: flags[3],
				Container: q.Get("container"), Command: q["command"]}
		}
	case resource == "pods" && sub == "portforward":
		o := &corev1.PodPortForwardOptions{}
		for _, p := range q["ports"] {
			for _, part := range strings.Split(p, ",") {
				n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 32)
				if err != nil {
					return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid port %q: must be between 1 and 65535", part))
				}
				o.Ports = append(o.Ports, int32(n))
			}
		}
		obj = o
	case resource == "pods" && sub == "proxy":
		obj = &corev1.PodProxyOptions{Path: path}
	case resource == "services" && sub == "proxy":
		obj = &corev1.ServiceProxyOptions{Path: path}
	case resource == "nodes" && sub == "proxy":
		obj = &corev1.NodeProxyOptions{Path: path}
	default:
		return nil, nil
	}
	kind := strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1.")
	obj.GetObjectKind().SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return obj, nil
}
