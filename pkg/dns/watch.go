package dns

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// watcher keeps a zone in step with the cluster's Services, EndpointSlices
// and Namespaces. Every change recompiles the one Service it concerns from
// the informers' caches, which hold only what DNS needs (see slim*).
type watcher struct {
	z        *zone
	domain   string
	services corelisters.ServiceLister
	slices   cache.Indexer
	// mu makes recompiles of one Service from different informers land in
	// order: the last one always reads the newest state.
	mu     sync.Mutex
	synced []cache.InformerSynced
}

const byServiceIndex = "byService"

// newWatcher registers with the factory's informers; the caller starts the factory.
func newWatcher(f informers.SharedInformerFactory, z *zone, domain string) (*watcher, error) {
	svcInf := f.Core().V1().Services().Informer()
	sliceInf := f.Discovery().V1().EndpointSlices().Informer()
	nsInf := f.Core().V1().Namespaces().Informer()
	for _, set := range []struct {
		inf cache.SharedIndexInformer
		fn  cache.TransformFunc
	}{{svcInf, slimService}, {sliceInf, slimSlice}, {nsInf, slimNamespace}} {
		if err := set.inf.SetTransform(set.fn); err != nil {
			return nil, fmt.Errorf("cluster DNS informers: %w", err)
		}
	}
	if err := sliceInf.AddIndexers(cache.Indexers{byServiceIndex: func(obj interface{}) ([]string, error) {
		s, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok || s.Labels[discoveryv1.LabelServiceName] == "" {
			return nil, nil
		}
		return []string{s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName]}, nil
	}}); err != nil {
		return nil, err
	}
	w := &watcher{z: z, domain: domain, services: f.Core().V1().Services().Lister(), slices: sliceInf.GetIndexer()}
	r1, err := svcInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.onService,
		UpdateFunc: func(_, cur interface{}) { w.onService(cur) },
		DeleteFunc: w.onService,
	})
	if err != nil {
		return nil, err
	}
	r2, err := sliceInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: w.onSlice,
		UpdateFunc: func(old, cur interface{}) {
			o, ok1 := old.(*discoveryv1.EndpointSlice)
			c, ok2 := cur.(*discoveryv1.EndpointSlice)
			if ok1 && ok2 && o.Labels[discoveryv1.LabelServiceName] != c.Labels[discoveryv1.LabelServiceName] {
				w.onSlice(old)
			}
			w.onSlice(cur)
		},
		DeleteFunc: w.onSlice,
	})
	if err != nil {
		return nil, err
	}
	r3, err := nsInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if ns, ok := obj.(*corev1.Namespace); ok {
				z.setNamespace(ns.Name, true)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if ns, ok := tombstone[*corev1.Namespace](obj); ok {
				z.setNamespace(ns.Name, false)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	w.synced = []cache.InformerSynced{r1.HasSynced, r2.HasSynced, r3.HasSynced}
	return w, nil
}

func tombstone[T any](obj interface{}) (T, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	v, ok := obj.(T)
	return v, ok
}

func (w *watcher) onService(obj interface{}) {
	if s, ok := tombstone[*corev1.Service](obj); ok {
		w.recompile(s.Namespace, s.Name)
	}
}

func (w *watcher) onSlice(obj interface{}) {
	if s, ok := tombstone[*discoveryv1.EndpointSlice](obj); ok && s.Labels[discoveryv1.LabelServiceName] != "" {
		w.recompile(s.Namespace, s.Labels[discoveryv1.LabelServiceName])
	}
}

func (w *watcher) recompile(ns, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := name + "." + ns
	svc, err := w.services.Services(ns).Get(name)
	if err != nil {
		w.z.set(key, nil)
		return
	}
	objs, _ := w.slices.ByIndex(byServiceIndex, ns+"/"+name)
	slices := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*discoveryv1.EndpointSlice); ok {
			slices = append(slices, s)
		}
	}
	w.z.set(key, compile(svc, slices, w.domain))
}

// The informers keep only what answers need: a few hundred bytes per object
// instead of the whole object with its managed fields.

func slimMeta(m metav1.ObjectMeta, keepLabel string) metav1.ObjectMeta {
	out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, ResourceVersion: m.ResourceVersion, UID: m.UID}
	if v, ok := m.Labels[keepLabel]; ok && keepLabel != "" {
		out.Labels = map[string]string{keepLabel: v}
	}
	return out
}

func slimService(obj interface{}) (interface{}, error) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	out := &corev1.Service{ObjectMeta: slimMeta(s.ObjectMeta, ""), Spec: corev1.ServiceSpec{Type: s.Spec.Type,
		ClusterIP: s.Spec.ClusterIP, ClusterIPs: s.Spec.ClusterIPs, ExternalName: s.Spec.ExternalName, ExternalIPs: s.Spec.ExternalIPs}}
	for _, p := range s.Spec.Ports {
		out.Spec.Ports = append(out.Spec.Ports, corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port})
	}
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			out.Status.LoadBalancer.Ingress = append(out.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: in.IP})
		}
	}
	return out, nil
}

func slimSlice(obj interface{}) (interface{}, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	out := &discoveryv1.EndpointSlice{ObjectMeta: slimMeta(s.ObjectMeta, discoveryv1.LabelServiceName), AddressType: s.AddressType, Ports: s.Ports}
	out.Endpoints = make([]discoveryv1.Endpoint, 0, len(s.Endpoints))
	for _, e := range s.Endpoints {
		if e.Conditions.Ready != nil && !*e.Conditions.Ready {
			continue // never served
		}
		out.Endpoints = append(out.Endpoints, discoveryv1.Endpoint{Addresses: e.Addresses, Hostname: e.Hostname})
	}
	return out, nil
}

func slimNamespace(obj interface{}) (interface{}, error) {
	n, ok := obj.(*corev1.Namespace)
	if !ok {
		return obj, nil
	}
	return &corev1.Namespace{ObjectMeta: slimMeta(n.ObjectMeta, "")}, nil
}
