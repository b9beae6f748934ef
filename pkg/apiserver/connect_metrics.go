package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// The resource metrics API (metrics.k8s.io/v1beta1), served here from the kubelets'
// /stats/summary, in place of an aggregated metrics-server: `kubectl top` and the
// HPA read it.

const metricsGroup = "metrics.k8s.io"

// metricsWindow is reported as the measurement window: the kubelets' CPU rates
// span their sampling period.
const metricsWindow = 10 * time.Second

var (
	// Named as metrics-server names them in errors ("podmetrics.metrics.k8s.io").
	nodeMetricsResource = schema.GroupResource{Group: metricsGroup, Resource: "nodemetrics"}
	podMetricsResource  = schema.GroupResource{Group: metricsGroup, Resource: "podmetrics"}
)

// metricsDiscovery describes the metrics resources for discovery (they have no
// storage, so they are not in the registry).
func metricsDiscovery() []*registry.Resource {
	return []*registry.Resource{
		{Group: metricsGroup, Version: "v1beta1", Name: "nodes", Kind: "NodeMetrics", Verbs: []string{"get", "list"}},
		{Group: metricsGroup, Version: "v1beta1", Name: "pods", Kind: "PodMetrics", Namespaced: true, Verbs: []string{"get", "list"}},
	}
}

// statsSource reads a node's usage summary; KubeletConnector is one.
type statsSource interface {
	nodeSummary(ctx context.Context, node *corev1.Node) (*statsSummary, error)
}

// statsSummary is the part of the kubelet's stats/v1alpha1 Summary the metrics use.
type statsSummary struct {
	Node struct {
		CPU    *statsCPU    `json:"cpu"`
		Memory *statsMemory `json:"memory"`
	} `json:"node"`
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
			UID       string `json:"uid"`
		} `json:"podRef"`
		Containers []struct {
			Name   string       `json:"name"`
			CPU    *statsCPU    `json:"cpu"`
			Memory *statsMemory `json:"memory"`
		} `json:"containers"`
	} `json:"pods"`
}

type statsCPU struct {
	Time           metav1.Time `json:"time"`
	UsageNanoCores *uint64     `json:"usageNanoCores"`
}

type statsMemory struct {
	Time            metav1.Time `json:"time"`
	WorkingSetBytes *uint64     `json:"workingSetBytes"`
}

// nodeSummary asks a node's kubelet for /stats/summary.
func (k *KubeletConnector) nodeSummary(ctx context.Context, node *corev1.Node) (*statsSummary, error) {
	host, err := kubeletHost(node)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := url.URL{Scheme: "https", Host: host, Path: "/stats/summary", RawQuery: "only_cpu_and_memory=true"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.kubelet.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("stats of node %s: %w", node.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("stats of node %s: %w", node.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("stats of node %s: %s: %s", node.Name, resp.Status, strings.TrimSpace(string(body)))
	}
	var sum statsSummary
	if err := json.Unmarshal(body, &sum); err != nil {
		return nil, fmt.Errorf("stats of node %s: %w", node.Name, err)
	}
	return &sum, nil
}

// serveMetrics answers get and list of nodes and pods in metrics.k8s.io/v1beta1.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if err := s.metricsRequest(w, r, info); err != nil {
		writeError(w, r, err)
	}
}

func (s *Server) metricsRequest(w http.ResponseWriter, r *http.Request, info requestInfo) error {
	if info.Version != "v1beta1" || (info.Resource != "nodes" && info.Resource != "pods") || info.Subresource != "" {
		return errNotServed()
	}
	gr := nodeMetricsResource
	if info.Resource == "pods" {
		gr = podMetricsResource
	} else if info.Namespace != "" {
		return errNotServed()
	}
	if info.Verb != "get" && info.Verb != "list" {
		return methodNotSupported(gr, info.Verb)
	}
	src, ok := s.cfg.Connect.(statsSource)
	if !ok {
		return apierrors.NewServiceUnavailable("the metrics API is not available: no node agent is connected")
	}
	q := r.URL.Query()
	lsel, fsel := labels.Everything(), fields.Everything()
	if v := q.Get("labelSelector"); v != "" {
		sel, err := labels.Parse(v)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", unwrapParse(err)))
		}
		lsel = sel
	}
	if v := q.Get("fieldSelector"); v != "" {
		sel, err := fields.ParseSelector(v)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		fsel = sel
	}
	nodes, err := s.metricsNodes(r.Context())
	if err != nil {
		return err
	}
	if info.Resource == "nodes" {
		return s.serveNodeMetrics(w, r, info, src, nodes, lsel, fsel)
	}
	return s.servePodMetrics(w, r, info, src, nodes, lsel, fsel)
}

func (s *Server) metricsNodes(ctx context.Context) ([]*corev1.Node, error) {
	res := s.cfg.Registry.Get(schema.GroupVersionResource{Version: "v1", Resource: "nodes"})
	if res == nil || res.Store == nil {
		return nil, apierrors.NewServiceUnavailable("nodes are not served")
	}
	list, err := res.Store.List(ctx, storage.ListOptions{ReadOptions: storage.ReadOptions{ResourceVersion: "0"}})
	if err != nil {
		return nil, err
	}
	var out []*corev1.Node
	for _, obj := range list.Items {
		if n, ok := obj.(*corev1.Node); ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// summaries asks the nodes for their usage at once; nodes that do not answer
// are left out, as metrics-server leaves out nodes it cannot scrape.
func (s *Server) summaries(ctx context.Context, src statsSource, nodes []*corev1.Node) map[string]*statsSummary {
	out := make(map[string]*statsSummary, len(nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := src.nodeSummary(ctx, n)
			if err != nil {
				s.log.Debug("node metrics unavailable", "node", n.Name, "err", err)
				return
			}
			mu.Lock()
			out[n.Name] = sum
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func usage(cpu *statsCPU, mem *statsMemory) (corev1.ResourceList, time.Time, bool) {
	if cpu == nil || mem == nil || cpu.UsageNanoCores == nil || mem.WorkingSetBytes == nil {
		return nil, time.Time{}, false
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewScaledQuantity(int64(*cpu.UsageNanoCores), resource.Nano),
		corev1.ResourceMemory: *resource.NewQuantity(int64(*mem.WorkingSetBytes), resource.BinarySI),
	}, cpu.Time.Time, true
}

func (s *Server) serveNodeMetrics(w http.ResponseWriter, r *http.Request, info requestInfo, src statsSource,
	nodes []*corev1.Node, lsel labels.Selector, fsel fields.Selector) error {
	var picked []*corev1.Node
	for _, n := range nodes {
		if info.Name != "" && n.Name != info.Name {
			continue
		}
		if info.Name == "" && (!lsel.Matches(labels.Set(n.Labels)) || !fsel.Matches(fields.Set{"metadata.name": n.Name})) {
			continue
		}
		picked = append(picked, n)
	}
	sums := s.summaries(r.Context(), src, picked)
	now := metav1.Now()
	list := &metricsv1beta1.NodeMetricsList{TypeMeta: metav1.TypeMeta{Kind: "NodeMetricsList", APIVersion: "metrics.k8s.io/v1beta1"},
		Items: []metricsv1beta1.NodeMetrics{}}
	for _, n := range picked {
		sum := sums[n.Name]
		if sum == nil {
			continue
		}
		u, at, ok := usage(sum.Node.CPU, sum.Node.Memory)
		if !ok {
			continue
		}
		list.Items = append(list.Items, metricsv1beta1.NodeMetrics{
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels, CreationTimestamp: now},
			Timestamp:  metav1.NewTime(at), Window: metav1.Duration{Duration: metricsWindow}, Usage: u,
		})
	}
	if info.Name != "" {
		if len(list.Items) == 0 {
			return apierrors.NewNotFound(nodeMetricsResource, info.Name)
		}
		item := list.Items[0]
		item.TypeMeta = metav1.TypeMeta{Kind: "NodeMetrics", APIVersion: "metrics.k8s.io/v1beta1"}
		writeNegotiated(w, r, http.StatusOK, &item)
		return nil
	}
	writeNegotiated(w, r, http.StatusOK, list)
	return nil
}

func (s *Server) servePodMetrics(w http.ResponseWriter, r *http.Request, info requestInfo, src statsSource,
	nodes []*corev1.Node, lsel labels.Selector, fsel fields.Selector) error {
	ctx := r.Context()
	pods := s.cfg.Registry.Get(schema.GroupVersionResource{Version: "v1", Resource: "pods"})
	if pods == nil || pods.Store == nil {
		return apierrors.NewServiceUnavailable("pods are not served")
	}
	// The pods the request is about, from the API: they give labels, and only pods
	// that still exist are reported.
	var want []*corev1.Pod
	if info.Name != "" {
		obj, err := pods.Store.Get(ctx, pods.Store.Key(info.Namespace, info.Name), info.Name, storage.ReadOptions{ResourceVersion: "0"})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return apierrors.NewNotFound(podMetricsResource, info.Namespace+"/"+info.Name)
			}
			return err
		}
		if p, ok := obj.(*corev1.Pod); ok {
			want = append(want, p)
		}
	} else {
		list, err := pods.Store.List(ctx, storage.ListOptions{ReadOptions: storage.ReadOptions{ResourceVersion: "0"},
			Namespace: info.Namespace, Predicate: storage.Predicate{Label: lsel}})
		if err != nil {
			return err
		}
		for _, obj := range list.Items {
			p, ok := obj.(*corev1.Pod)
			if ok && fsel.Matches(fields.Set{"metadata.name": p.Name, "metadata.namespace": p.Namespace}) {
				want = append(want, p)
			}
		}
	}
	byUID := map[string]*corev1.Pod{}
	onNodes := map[string]bool{}
	for _, p := range want {
		if p.Spec.NodeName != "" {
			byUID[string(p.UID)] = p
			onNodes[p.Spec.NodeName] = true
		}
	}
	var picked []*corev1.Node
	for _, n := range nodes {
		if onNodes[n.Name] {
			picked = append(picked, n)
		}
	}
	sums := s.summaries(ctx, src, picked)
	now := metav1.Now()
	list := &metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: "metrics.k8s.io/v1beta1"},
		Items: []metricsv1beta1.PodMetrics{}}
	for _, sum := range sums {
		for _, ps := range sum.Pods {
			p := byUID[ps.PodRef.UID]
			if p == nil || len(ps.Containers) == 0 {
				continue
			}
			pm := metricsv1beta1.PodMetrics{
				ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, CreationTimestamp: now},
				Window:     metav1.Duration{Duration: metricsWindow},
			}
			complete := true
			var latest time.Time
			for _, c := range ps.Containers {
				u, at, ok := usage(c.CPU, c.Memory)
				if !ok {
					// As metrics-server: a pod is reported whole or not at all.
					complete = false
					break
				}
				if at.After(latest) {
					latest = at
				}
				pm.Containers = append(pm.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name, Usage: u})
			}
			if !complete {
				continue
			}
			pm.Timestamp = metav1.NewTime(latest)
			list.Items = append(list.Items, pm)
		}
	}
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i], list.Items[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	if info.Name != "" {
		if len(list.Items) == 0 {
			return apierrors.NewNotFound(podMetricsResource, info.Namespace+"/"+info.Name)
		}
		item := list.Items[0]
		item.TypeMeta = metav1.TypeMeta{Kind: "PodMetrics", APIVersion: "metrics.k8s.io/v1beta1"}
		writeNegotiated(w, r, http.StatusOK, &item)
		return nil
	}
	writeNegotiated(w, r, http.StatusOK, list)
	return nil
}
