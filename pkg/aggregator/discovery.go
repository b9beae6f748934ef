package aggregator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/transport"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

var everything = labels.Everything()

// GroupVersion is what an available extension API server serves, for the
// API server's discovery documents.
type GroupVersion struct {
	Group, Version                        string
	GroupPriorityMinimum, VersionPriority int32
	// Resources are the extension's /apis/<group>/<version> document.
	Resources []metav1.APIResource
}

// discoveryTimeout bounds one discovery check, as upstream's.
const discoveryTimeout = 5 * time.Second

// checkDiscovery asks the extension server for /apis/<group>/<version> as
// upstream's availability check does (as system:kube-aggregator in
// system:masters) and returns its resource list.
func (a *Aggregator) checkDiscovery(ctx context.Context, s *apiregistrationv1.APIService) (*metav1.APIResourceList, error) {
	rt, err := a.transport(s)
	if err != nil {
		return nil, err
	}
	target, err := a.resolve(s)
	if err != nil {
		return nil, err
	}
	target.Path = "/apis/" + s.Spec.Group + "/" + s.Spec.Version
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	transport.SetAuthProxyHeaders(req, "system:kube-aggregator", "", []string{"system:masters"}, nil)
	client := &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		rt.CloseIdleConnections()
		return nil, fmt.Errorf("failing or missing response from %s: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < http.StatusOK || resp.StatusCode >= http.StatusMultipleChoices {
		return nil, fmt.Errorf("failing or missing response from %s: bad status from %s: %d", target, target, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("failing or missing response from %s: %w", target, err)
	}
	list := &metav1.APIResourceList{}
	if err := json.Unmarshal(body, list); err != nil {
		// Available all the same, as upstream: only the status is checked.
		a.log.Warn("extension API server's discovery document is unreadable", "apiservice", s.Name, "err", err)
	}
	return list, nil
}

// remember keeps an available APIService's discovery, telling the API server
// when it changed.
func (a *Aggregator) remember(s *apiregistrationv1.APIService, list *metav1.APIResourceList) {
	gv := GroupVersion{Group: s.Spec.Group, Version: s.Spec.Version, GroupPriorityMinimum: s.Spec.GroupPriorityMinimum,
		VersionPriority: s.Spec.VersionPriority, Resources: list.APIResources}
	a.mu.Lock()
	old, had := a.discovery[s.Name]
	a.discovery[s.Name] = gv
	a.mu.Unlock()
	if !had || !sameGroupVersion(old, gv) {
		a.changed()
	}
}

// forget drops what an APIService no longer serves.
func (a *Aggregator) forget(name string) {
	a.mu.Lock()
	_, had := a.discovery[name]
	delete(a.discovery, name)
	if t, ok := a.transports[name]; ok {
		t.rt.CloseIdleConnections()
		delete(a.transports, name)
	}
	a.mu.Unlock()
	if had {
		a.changed()
	}
}

func sameGroupVersion(a, b GroupVersion) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Discovery returns the group versions available extension servers serve,
// by group priority then version priority, highest first.
func (a *Aggregator) Discovery() []GroupVersion {
	a.mu.Lock()
	out := make([]GroupVersion, 0, len(a.discovery))
	for _, gv := range a.discovery {
		out = append(out, gv)
	}
	a.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			if out[i].GroupPriorityMinimum != out[j].GroupPriorityMinimum {
				return out[i].GroupPriorityMinimum > out[j].GroupPriorityMinimum
			}
			return out[i].Group < out[j].Group
		}
		if out[i].VersionPriority != out[j].VersionPriority {
			return out[i].VersionPriority > out[j].VersionPriority
		}
		return out[i].Version < out[j].Version
	})
	return out
}
