package apiserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilproxy "k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/util/proxy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// KubeletConnector answers the subresources a node serves — pods/log, exec,
// attach, portforward, and the proxies of pods, services and nodes — by reaching
// the node's kubelet API (or the pod itself) as upstream's API server does.
type KubeletConnector struct {
	reg *registry.Registry
	log *slog.Logger
	// kubelet reaches kubelets with the API server's client certificate; the
	// kubelets' self-signed serving certificates are not verified, as upstream
	// does not without --kubelet-certificate-authority.
	kubelet *http.Transport
	// direct reaches pods and service endpoints.
	direct *http.Transport
}

// NewKubeletConnector builds the connector; clientCert is the API server's
// kubelet-client identity, which kubelets accept.
func NewKubeletConnector(reg *registry.Registry, clientCert tls.Certificate, log *slog.Logger) *KubeletConnector {
	if log == nil {
		log = slog.Default()
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	newTransport := func(tc *tls.Config) *http.Transport {
		// HTTP/1.1 only (no TLSNextProto): exec, attach and port-forward upgrade
		// the connection, which HTTP/2 cannot; and never through a proxy.
		return &http.Transport{
			DialContext: dialer.DialContext, TLSClientConfig: tc, TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second,
		}
	}
	return &KubeletConnector{
		reg: reg, log: log.With("component", "kubelet-connector"),
		kubelet: newTransport(&tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{clientCert},
			MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}),
		direct: newTransport(&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}),
	}
}

// ServeConnect implements ConnectHandler.
func (k *KubeletConnector) ServeConnect(w http.ResponseWriter, r *http.Request, res *registry.Resource, namespace, name, sub string, rest []string) {
	var err error
	switch {
	case res.Name == "pods" && sub == "log":
		err = k.serveLog(w, r, namespace, name)
	case res.Name == "pods" && (sub == "exec" || sub == "attach" || sub == "portforward"):
		err = k.serveStream(w, r, namespace, name, sub)
	case sub == "proxy" && (res.Name == "pods" || res.Name == "services" || res.Name == "nodes"):
		err = k.serveProxy(w, r, res.Name, namespace, name, rest)
	default:
		err = errNotServed()
	}
	if err != nil {
		writeError(w, r, err)
	}
}

func (k *KubeletConnector) store(resource string) (*storage.Resource, error) {
	gvr := schema.GroupVersionResource{Version: "v1", Resource: resource}
	if resource == "endpointslices" {
		gvr.Group = "discovery.k8s.io"
	}
	res := k.reg.Get(gvr)
	if res == nil || res.Store == nil {
		return nil, fmt.Errorf("resource %s is not served", gvr.GroupResource())
	}
	return res.Store, nil
}

func (k *KubeletConnector) getPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	st, err := k.store("pods")
	if err != nil {
		return nil, err
	}
	obj, err := st.Get(ctx, st.Key(namespace, name), name, storage.ReadOptions{})
	if err != nil {
		return nil, err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("stored pod %s/%s is a %T", namespace, name, obj)
	}
	return pod, nil
}

// nodeLocation is where a node's kubelet listens: its preferred address and the
// port it advertises.
func (k *KubeletConnector) nodeLocation(ctx context.Context, nodeName string) (string, error) {
	st, err := k.store("nodes")
	if err != nil {
		return "", err
	}
	obj, err := st.Get(ctx, st.Key("", nodeName), nodeName, storage.ReadOptions{ResourceVersion: "0"})
	if err != nil {
		return "", err
	}
	node, ok := obj.(*corev1.Node)
	if !ok {
		return "", fmt.Errorf("stored node %s is a %T", nodeName, obj)
	}
	return kubeletHost(node)
}

// simulated tells whether the named node is a simulated one (package sim).
func (k *KubeletConnector) simulated(ctx context.Context, nodeName string) bool {
	st, err := k.store("nodes")
	if err != nil || nodeName == "" {
		return false
	}
	obj, err := st.Get(ctx, st.Key("", nodeName), nodeName, storage.ReadOptions{ResourceVersion: "0"})
	node, ok := obj.(*corev1.Node)
	return err == nil && ok && node.Labels[apis.LabelSimulatedNode] == "true"
}

func kubeletHost(node *corev1.Node) (string, error) {
	if node.Labels[apis.LabelSimulatedNode] == "true" {
		// Its addresses are made up: dialing them would send packets off the machine.
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("node %q is simulated: it has no kubelet to connect to", node.Name))
	}
	host := ""
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeHostName, corev1.NodeExternalIP} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" && host == "" {
				host = a.Address
			}
		}
	}
	if host == "" {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("node %q has no address to reach its kubelet at", node.Name))
	}
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if port == 0 {
		port = 10250
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), nil
}

// pickContainer finds the container a log or stream request means, with
// upstream's errors when it cannot.
func pickContainer(pod *corev1.Pod, container string) (string, error) {
	if container != "" {
		for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for _, c := range list {
				if c.Name == container {
					return container, nil
				}
			}
		}
		for _, c := range pod.Spec.EphemeralContainers {
			if c.Name == container {
				return container, nil
			}
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, pod.Name))
	}
	switch len(pod.Spec.Containers) {
	case 1:
		return pod.Spec.Containers[0].Name, nil
	case 0:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
	}
	names := func(cs []corev1.Container) string {
		var n []string
		for _, c := range cs {
			n = append(n, c.Name)
		}
		return strings.Join(n, " ")
	}
	msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, names(pod.Spec.Containers))
	if len(pod.Spec.InitContainers) > 0 {
		msg += fmt.Sprintf(" or one of the init containers: [%s]", names(pod.Spec.InitContainers))
	}
	if len(pod.Spec.EphemeralContainers) > 0 {
		var eph []string
		for _, c := range pod.Spec.EphemeralContainers {
			eph = append(eph, c.Name)
		}
		msg += fmt.Sprintf(" or one of the ephemeral containers: [%s]", strings.Join(eph, " "))
	}
	return "", apierrors.NewBadRequest(msg)
}

// logParams reads PodLogOptions from the query, validated as upstream does, and
// returns the kubelet's query for them.
func logParams(q url.Values, podName string) (url.Values, error) {
	out := url.Values{}
	for _, name := range []string{"follow", "previous", "timestamps"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("parameter %s=%q is not a boolean", name, v))
		}
		if b {
			out.Set(name, "true")
		}
	}
	ints := map[string]int64{}
	for _, name := range []string{"tailLines", "limitBytes", "sinceSeconds"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("parameter %s=%q is not an integer", name, v))
		}
		ints[name] = n
		out.Set(name, strconv.FormatInt(n, 10))
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("parameter sinceTime=%q is not an RFC 3339 time", v))
		}
		out.Set("sinceTime", t.Format(time.RFC3339))
	}
	var errs field.ErrorList
	if n, ok := ints["tailLines"]; ok && n < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), n, "must be greater than or equal to 0"))
	}
	if n, ok := ints["limitBytes"]; ok && n < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), n, "must be greater than 0"))
	}
	if n, ok := ints["sinceSeconds"]; ok {
		if out.Has("sinceTime") {
			errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
		} else if n < 1 {
			errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), n, "must be greater than 0"))
		}
	}
	if v := q.Get("stream"); v != "" {
		switch v {
		case "All", "Stdout", "Stderr":
			if v != "All" && out.Has("tailLines") {
				errs = append(errs, field.Forbidden(field.NewPath(""), "`tailLines` and specific `stream` are mutually exclusive for now"))
			}
			out.Set("stream", v)
		default:
			errs = append(errs, field.NotSupported(field.NewPath("stream"), v, []string{"All", "Stdout", "Stderr"}))
		}
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, podName, errs)
	}
	return out, nil
}

// serveLog streams a container's log from its node.
func (k *KubeletConnector) serveLog(w http.ResponseWriter, r *http.Request, namespace, name string) error {
	if r.Method != http.MethodGet {
		return methodNotSupported(schema.GroupResource{Resource: "pods/log"}, strings.ToLower(r.Method))
	}
	ctx := r.Context()
	pod, err := k.getPod(ctx, namespace, name)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	container, err := pickContainer(pod, q.Get("container"))
	if err != nil {
		return err
	}
	params, err := logParams(q, name)
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		// Not scheduled: nothing has run, nothing has logged.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	host, err := k.nodeLocation(ctx, pod.Spec.NodeName)
	if err != nil {
		return err
	}
	u := &url.URL{Scheme: "https", Host: host, RawQuery: params.Encode(),
		Path: fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, container)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	resp, err := k.kubelet.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return apierrors.NewInternalError(fmt.Errorf("get logs from node %s: %w", pod.Spec.NodeName, err))
	}
	defer resp.Body.Close()
	if err := kubeletError(resp, "pods/log", name); err != nil {
		return err
	}
	if wsstream.IsWebSocketRequest(r) {
		// As upstream's API server streams any body to a WebSocket client:
		// one binary (or base64) message per read.
		_ = wsstream.NewReader(&eofApart{r: resp.Body}, true, wsstream.NewDefaultReaderProtocols()).Copy(w, r)
		return nil
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	copyFlushing(w, resp.Body)
	return nil
}

// kubeletError turns a kubelet's failure into the API error upstream's API
// server makes of it: its text as the message of a BadRequest or InternalError.
func kubeletError(resp *http.Response, resource, name string) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 206 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64*1024))
	text := string(body)
	switch resp.StatusCode {
	case http.StatusBadRequest:
		return apierrors.NewBadRequest(text)
	case http.StatusInternalServerError:
		return apierrors.NewInternalError(errors.New(text))
	}
	return apierrors.NewGenericServerResponse(resp.StatusCode, "get", schema.GroupResource{Resource: resource}, name, text, 0, false)
}

// copyFlushing copies a stream to the client, flushing as data comes so that a
// followed log shows each line when it is written.
func copyFlushing(w http.ResponseWriter, r io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// serveStream proxies exec, attach and portforward to the node's kubelet,
// upgrade and all.
func (k *KubeletConnector) serveStream(w http.ResponseWriter, r *http.Request, namespace, name, sub string) error {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return methodNotSupported(schema.GroupResource{Resource: "pods/" + sub}, strings.ToLower(r.Method))
	}
	// kubectl 1.30+ asks for WebSockets: exec and attach with the v5 channel
	// protocol, which is translated here to SPDY toward the kubelet, and
	// port-forward as SPDY tunnelled through a WebSocket, as upstream's API server
	// does. Older WebSocket protocols (channel.k8s.io, base64.channel.k8s.io,
	// v4.channel.k8s.io) go through to the kubelet, whose runtime serves them.
	websocket := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	translate := websocket && sub != "portforward" && wsstream.IsWebSocketRequestWithStreamCloseProtocol(r)
	tunnel := websocket && sub == "portforward" && wsstream.IsWebSocketRequestWithTunnelingProtocol(r)
	ctx := r.Context()
	pod, err := k.getPod(ctx, namespace, name)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	params := url.Values{}
	path := ""
	switch sub {
	case "portforward":
		for _, p := range q["ports"] {
			for _, part := range strings.Split(p, ",") {
				n, err := strconv.ParseUint(strings.TrimSpace(part), 10, 16)
				if err != nil || n == 0 {
					return apierrors.NewBadRequest(fmt.Sprintf("invalid port %q: must be between 1 and 65535", part))
				}
				params.Add("port", strconv.FormatUint(n, 10))
			}
		}
		path = fmt.Sprintf("/portForward/%s/%s", pod.Namespace, pod.Name)
	default:
		container, err := pickContainer(pod, q.Get("container"))
		if err != nil {
			return err
		}
		for _, f := range [][2]string{{"stdin", "input"}, {"stdout", "output"}, {"stderr", "error"}, {"tty", "tty"}} {
			if v := q.Get(f[0]); v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return apierrors.NewBadRequest(fmt.Sprintf("parameter %s=%q is not a boolean", f[0], v))
				}
				if b {
					params.Set(f[1], "1")
				}
			}
		}
		if sub == "exec" {
			params["command"] = q["command"]
		}
		kubeletPath := "exec"
		if sub == "attach" {
			kubeletPath = "attach"
		}
		path = fmt.Sprintf("/%s/%s/%s/%s", kubeletPath, pod.Namespace, pod.Name, container)
	}
	if pod.Spec.NodeName == "" {
		return apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	host, err := k.nodeLocation(ctx, pod.Spec.NodeName)
	if err != nil {
		return err
	}
	target := &url.URL{Scheme: "https", Host: host, Path: path, RawQuery: params.Encode()}
	switch {
	case tunnel:
		// The tunnel hands its upgrade to a proxy that writes the kubelet's 101
		// straight onto the hijacked connection, as the tunnel expects.
		up := utilproxy.NewUpgradeAwareHandler(target, k.kubelet, false, true, k)
		proxy.NewTunnelingHandler(up).ServeHTTP(w, withoutCredentials(r))
	case translate:
		opts := proxy.Options{Stdin: params.Get("input") == "1", Stdout: params.Get("output") == "1",
			Stderr: params.Get("error") == "1", Tty: params.Get("tty") == "1"}
		proxy.NewStreamTranslatorHandler(target, k.kubelet, 0, opts).ServeHTTP(w, r)
	default:
		k.proxy(w, r, target, k.kubelet)
	}
	return nil
}

// Error answers a failed upgrade of a tunnelled port-forward (utilproxy.ErrorResponder).
func (k *KubeletConnector) Error(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	writeError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf("error trying to reach service: %v", err)))
}

// withoutCredentials is r without the caller's credentials.
func withoutCredentials(r *http.Request) *http.Request {
	r = r.Clone(r.Context())
	dropCredentials(r.Header)
	return r
}

// dropCredentials removes the caller's credentials, which are for this server
// only, from headers bound for a node or a pod.
func dropCredentials(h http.Header) {
	h.Del("Authorization")
	for k := range h {
		if strings.HasPrefix(k, "Impersonate-") {
			h.Del(k)
		}
	}
}

// proxy passes the request to target; upgrades (SPDY) are spliced through.
func (k *KubeletConnector) proxy(w http.ResponseWriter, r *http.Request, target *url.URL, transport http.RoundTripper) {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := *target
			pr.Out.URL = &out
			pr.Out.Host = target.Host
			dropCredentials(pr.Out.Header)
			pr.SetXForwarded()
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(k.log.Handler(), slog.LevelDebug),
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			if req.Context().Err() != nil {
				return
			}
			writeError(w, req, apierrors.NewServiceUnavailable(fmt.Sprintf("error trying to reach service: %v", err)))
		},
	}
	rp.ServeHTTP(w, r)
}

// splitSchemeNamePort splits a proxy name "[scheme:]name[:port]".
func splitSchemeNamePort(id string) (scheme, name, port string, ok bool) {
	parts := strings.Split(id, ":")
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		name, port = parts[0], parts[1]
	case 3:
		scheme, name, port = parts[0], parts[1], parts[2]
	default:
		return "", "", "", false
	}
	if name == "" || (scheme != "" && scheme != "http" && scheme != "https") {
		return "", "", "", false
	}
	return scheme, name, port, true
}

// serveProxy proxies /pods|services|nodes/{[scheme:]name[:port]}/proxy/{path}.
func (k *KubeletConnector) serveProxy(w http.ResponseWriter, r *http.Request, resource, namespace, id string, rest []string) error {
	scheme, name, port, ok := splitSchemeNamePort(id)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid %s request %q", strings.TrimSuffix(resource, "s"), id))
	}
	if scheme == "" {
		scheme = "http"
	}
	ctx := r.Context()
	target := &url.URL{Scheme: scheme}
	transport := k.direct
	switch resource {
	case "pods":
		pod, err := k.getPod(ctx, namespace, name)
		if err != nil {
			return err
		}
		if port == "" {
			for _, c := range pod.Spec.Containers {
				if len(c.Ports) > 0 {
					port = strconv.Itoa(int(c.Ports[0].ContainerPort))
					break
				}
			}
		}
		if pod.Status.PodIP == "" {
			return apierrors.NewBadRequest(fmt.Sprintf("pod %s has no IP address yet", name))
		}
		if k.simulated(ctx, pod.Spec.NodeName) {
			return apierrors.NewServiceUnavailable(fmt.Sprintf("pod %q runs on simulated node %q: nothing listens at its address", name, pod.Spec.NodeName))
		}
		target.Host = joinHostMaybePort(pod.Status.PodIP, port)
	case "services":
		host, err := k.serviceEndpoint(ctx, namespace, name, port)
		if err != nil {
			return err
		}
		target.Host = host
	case "nodes":
		host, err := k.nodeLocation(ctx, name)
		if err != nil {
			return err
		}
		kubeletPort := host[strings.LastIndexByte(host, ':')+1:]
		if port == "" || port == kubeletPort {
			target.Scheme, target.Host, transport = "https", host, k.kubelet
		} else {
			h, _, _ := net.SplitHostPort(host)
			target.Host = net.JoinHostPort(h, port)
		}
	}
	// An empty path stays empty: upstream's handler then redirects GET and HEAD
	// to the URL with a trailing slash (301), and a trailing slash of the request
	// is kept.
	if len(rest) > 0 {
		target.Path = "/" + strings.Join(rest, "/")
	}
	// The upgrade-aware handler, with its transport wrapped, rewrites links in
	// HTML answers and Location headers under this proxy path, as upstream does.
	utilproxy.NewUpgradeAwareHandler(target, transport, true, false, k).ServeHTTP(w, withoutCredentials(r))
	return nil
}

func joinHostMaybePort(host, port string) string {
	if port == "" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

// serviceEndpoint picks a ready endpoint of a service port (by name or number; the
// only port when empty), as upstream's services/proxy does.
func (k *KubeletConnector) serviceEndpoint(ctx context.Context, namespace, name, port string) (string, error) {
	st, err := k.store("services")
	if err != nil {
		return "", err
	}
	obj, err := st.Get(ctx, st.Key(namespace, name), name, storage.ReadOptions{ResourceVersion: "0"})
	if err != nil {
		return "", err
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return "", fmt.Errorf("stored service %s/%s is a %T", namespace, name, obj)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if port == "" || p.Name == port || strconv.Itoa(int(p.Port)) == port {
			sp = p
			break
		}
	}
	if sp == nil {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %q found for service %q", port, name))
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(sp.Port))), nil
	}
	var candidates []string
	if slices, err := k.store("endpointslices"); err == nil {
		sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})
		list, err := slices.List(ctx, storage.ListOptions{ReadOptions: storage.ReadOptions{ResourceVersion: "0"},
			Namespace: namespace, Predicate: storage.Predicate{Label: sel}})
		if err == nil {
			candidates = append(candidates, sliceEndpoints(list.Items, sp.Name)...)
		}
	}
	if len(candidates) == 0 {
		if eps, err := k.store("endpoints"); err == nil {
			if obj, err := eps.Get(ctx, eps.Key(namespace, name), name, storage.ReadOptions{ResourceVersion: "0"}); err == nil {
				candidates = append(candidates, endpointsAddresses(obj, sp.Name)...)
			}
		}
	}
	if len(candidates) == 0 {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", name))
	}
	return candidates[rand.IntN(len(candidates))], nil
}

func sliceEndpoints(items []runtime.Object, portName string) []string {
	var out []string
	for _, obj := range items {
		s, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok {
			continue
		}
		var port *int32
		for _, p := range s.Ports {
			if p.Name != nil && *p.Name == portName || p.Name == nil && portName == "" {
				port = p.Port
			}
		}
		if port == nil {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				out = append(out, net.JoinHostPort(a, strconv.Itoa(int(*port))))
			}
		}
	}
	return out
}

func endpointsAddresses(obj runtime.Object, portName string) []string {
	ep, ok := obj.(*corev1.Endpoints)
	if !ok {
		return nil
	}
	var out []string
	for _, ss := range ep.Subsets {
		for _, p := range ss.Ports {
			if p.Name != portName {
				continue
			}
			for _, a := range ss.Addresses {
				out = append(out, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	return out
}

// eofApart hands out a reader's last bytes and its EOF in separate reads:
// the WebSocket copier drops whatever comes with io.EOF, and a body of known
// length (a short log) ends that way.
type eofApart struct {
	r   io.Reader
	eof bool
}

func (e *eofApart) Read(p []byte) (int, error) {
	if e.eof {
		return 0, io.EOF
	}
	n, err := e.r.Read(p)
	if err == io.EOF && n > 0 {
		e.eof = true
		return n, nil
	}
	return n, err
}
