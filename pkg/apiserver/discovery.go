package apiserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/aggregator"
	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
)

// groupOrder is the order groups appear in discovery, preferred first, as upstream
// orders them; unknown groups follow alphabetically.
var groupOrder = []string{"", "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
	"authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy",
	"rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
	"scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "flowcontrol.apiserver.k8s.io",
	"resource.k8s.io", "metrics.k8s.io"}

// versionOrder ranks versions as kube-aware sorting does: GA, then beta, then alpha.
func versionLess(a, b string) bool { return versionRank(a) > versionRank(b) }

func versionRank(v string) int {
	var major, minor int
	var kind string
	fmt.Sscanf(v, "v%d%s", &major, &kind)
	switch {
	case kind == "":
		return 100000 + major*100
	case strings.HasPrefix(kind, "beta"):
		fmt.Sscanf(kind, "beta%d", &minor)
		return 50000 + major*100 + minor
	case strings.HasPrefix(kind, "alpha"):
		fmt.Sscanf(kind, "alpha%d", &minor)
		return 10000 + major*100 + minor
	}
	return 0
}

// discoveryDocs serves /api, /apis and per-group(-version) discovery, legacy and
// aggregated, computed once per registry change.
type discoveryDocs struct {
	reg *registry.Registry
	// extra are served resources outside the registry (metrics.k8s.io).
	extra []*registry.Resource
	// remote lists the group versions extension API servers serve.
	remote func() []aggregator.GroupVersion

	mu        sync.Mutex
	built     bool
	groups    []groupInfo
	aggJSON   map[string][]byte // "api"/"apis" + version → encoded aggregated doc
	aggETag   map[string]string
	aggProto  map[string][]byte
	resources map[schema.GroupVersion]*metav1.APIResourceList
	// remoteResources are the extension servers' group versions, by gv.
	remoteResources map[schema.GroupVersion][]metav1.APIResource
}

type groupInfo struct {
	name     string
	versions []string // preferred first
}

func newDiscoveryDocs(reg *registry.Registry) *discoveryDocs { return &discoveryDocs{reg: reg} }

// invalidate makes the next request rebuild the documents (after CRD changes).
func (d *discoveryDocs) invalidate() {
	d.mu.Lock()
	d.built = false
	d.mu.Unlock()
}

func (d *discoveryDocs) build() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.built {
		return
	}
	versions := map[string]map[string]bool{}
	d.resources = map[schema.GroupVersion]*metav1.APIResourceList{}
	for _, r := range d.allResources() {
		gv := r.GroupVersion()
		if versions[r.Group] == nil {
			versions[r.Group] = map[string]bool{}
		}
		versions[r.Group][r.Version] = true
		list := d.resources[gv]
		if list == nil {
			list = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
			d.resources[gv] = list
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: r.Name, SingularName: r.SingularName, Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: r.VerbList(), ShortNames: r.ShortNames, Categories: r.Categories,
			StorageVersionHash: storageVersionHash(r),
		})
		for _, sub := range r.AllSubresources() {
			ar := metav1.APIResource{Name: r.Name + "/" + sub.Name, Namespaced: r.Namespaced, Kind: sub.Kind.Kind, Verbs: sub.Verbs}
			if sub.Kind.GroupVersion() != gv {
				ar.Group, ar.Version = sub.Kind.Group, sub.Kind.Version
			}
			list.APIResources = append(list.APIResources, ar)
		}
	}
	d.remoteResources = map[schema.GroupVersion][]metav1.APIResource{}
	if d.remote != nil {
		for _, rgv := range d.remote() {
			gv := schema.GroupVersion{Group: rgv.Group, Version: rgv.Version}
			if d.resources[gv] != nil || rgv.Group == "" {
				continue
			}
			if versions[rgv.Group] == nil {
				versions[rgv.Group] = map[string]bool{}
			}
			versions[rgv.Group][rgv.Version] = true
			d.resources[gv] = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
				GroupVersion: gv.String(), APIResources: rgv.Resources}
			d.remoteResources[gv] = rgv.Resources
		}
	}
	for _, list := range d.resources {
		sort.SliceStable(list.APIResources, func(i, j int) bool { return list.APIResources[i].Name < list.APIResources[j].Name })
	}
	d.groups = nil
	for g, vs := range versions {
		gi := groupInfo{name: g}
		for v := range vs {
			gi.versions = append(gi.versions, v)
		}
		sort.Slice(gi.versions, func(i, j int) bool { return versionLess(gi.versions[i], gi.versions[j]) })
		d.groups = append(d.groups, gi)
	}
	sort.Slice(d.groups, func(i, j int) bool { return groupLess(d.groups[i].name, d.groups[j].name) })
	d.aggJSON, d.aggETag, d.aggProto = map[string][]byte{}, map[string]string{}, map[string][]byte{}
	d.built = true
}

func (d *discoveryDocs) allResources() []*registry.Resource {
	if len(d.extra) == 0 {
		return d.reg.All()
	}
	return append(append([]*registry.Resource{}, d.reg.All()...), d.extra...)
}

func groupLess(a, b string) bool {
	ia, ib := indexOf(groupOrder, a), indexOf(groupOrder, b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia < ib
	case ia >= 0:
		return true
	case ib >= 0:
		return false
	}
	return a < b
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func storageVersionHash(r *registry.Resource) string {
	if r.StorageVersionHash != "" {
		return r.StorageVersionHash
	}
	if r.Create != nil || r.KeyPrefix == "" {
		return ""
	}
	sv := r.StorageGVK()
	sum := sha256.Sum256([]byte(sv.Group + "/" + sv.Version + "/" + sv.Kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}

func (d *discoveryDocs) groupVersions() []schema.GroupVersion {
	d.build()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []schema.GroupVersion
	for _, g := range d.groups {
		if g.name == "" {
			continue
		}
		for _, v := range g.versions {
			out = append(out, schema.GroupVersion{Group: g.name, Version: v})
		}
	}
	return out
}

// serve answers every discovery path.
func (d *discoveryDocs) serve(w http.ResponseWriter, r *http.Request) {
	d.build()
	p := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(p, "/")
	if (p == "api" || p == "apis") && wantsAggregated(r) {
		d.serveAggregated(w, r, p)
		return
	}
	switch {
	case p == "api":
		writeJSON(w, r, http.StatusOK, &metav1.APIVersions{
			TypeMeta:                   metav1.TypeMeta{Kind: "APIVersions"},
			Versions:                   []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host}},
		})
	case p == "apis":
		list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
		for _, g := range d.snapshotGroups() {
			if g.name != "" {
				list.Groups = append(list.Groups, apiGroup(g))
			}
		}
		writeJSON(w, r, http.StatusOK, list)
	case len(parts) == 2 && parts[0] == "api":
		d.serveResourceList(w, r, schema.GroupVersion{Version: parts[1]})
	case len(parts) == 2 && parts[0] == "apis":
		for _, g := range d.snapshotGroups() {
			if g.name == parts[1] && g.name != "" {
				grp := apiGroup(g)
				grp.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
				writeJSON(w, r, http.StatusOK, &grp)
				return
			}
		}
		notFoundPath(w, r)
	case len(parts) == 3 && parts[0] == "apis":
		d.serveResourceList(w, r, schema.GroupVersion{Group: parts[1], Version: parts[2]})
	default:
		notFoundPath(w, r)
	}
}

func (d *discoveryDocs) snapshotGroups() []groupInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.groups
}

func (d *discoveryDocs) serveResourceList(w http.ResponseWriter, r *http.Request, gv schema.GroupVersion) {
	d.mu.Lock()
	list := d.resources[gv]
	d.mu.Unlock()
	if list == nil {
		notFoundPath(w, r)
		return
	}
	writeNegotiated(w, r, http.StatusOK, list)
}

func apiGroup(g groupInfo) metav1.APIGroup {
	grp := metav1.APIGroup{Name: g.name}
	for _, v := range g.versions {
		grp.Versions = append(grp.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g.name + "/" + v, Version: v})
	}
	grp.PreferredVersion = grp.Versions[0]
	return grp
}

// wantsAggregated reports whether the client asked for an APIGroupDiscoveryList.
func wantsAggregated(r *http.Request) bool {
	for _, item := range parseAccept(r.Header.Get("Accept")) {
		if item.params["g"] == "apidiscovery.k8s.io" && item.params["as"] == "APIGroupDiscoveryList" {
			return true
		}
	}
	return false
}

// serveAggregated answers the aggregated discovery document of /api or /apis in the
// first media type and version the client accepts.
func (d *discoveryDocs) serveAggregated(w http.ResponseWriter, r *http.Request, root string) {
	for _, item := range parseAccept(r.Header.Get("Accept")) {
		if item.params["g"] != "apidiscovery.k8s.io" || item.params["as"] != "APIGroupDiscoveryList" {
			continue
		}
		v := item.params["v"]
		if v != "v2" && v != "v2beta1" {
			continue
		}
		if item.mediaType != mediaJSON && item.mediaType != mediaProtobuf {
			continue
		}
		key := root + "/" + v + "/" + item.mediaType
		data, etag, err := d.aggregated(key, root, v, item.mediaType)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ct := mime.FormatMediaType(item.mediaType, map[string]string{"g": "apidiscovery.k8s.io", "v": v, "as": "APIGroupDiscoveryList"})
		w.Header().Set("ETag", etag)
		w.Header().Set("Vary", "Accept")
		if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeBytes(w, r, http.StatusOK, ct, data)
		return
	}
	d.serve(w, cloneWithoutAggregated(r))
}

func cloneWithoutAggregated(r *http.Request) *http.Request {
	c := r.Clone(r.Context())
	c.Header.Set("Accept", mediaJSON)
	return c
}

func (d *discoveryDocs) aggregated(key, root, version, mediaType string) ([]byte, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if data, ok := d.aggJSON[key]; ok {
		return data, d.aggETag[key], nil
	}
	list := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}}
	for _, g := range d.groups {
		if (root == "api") != (g.name == "") {
			continue
		}
		gd := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.name}}
		for _, v := range g.versions {
			vd := apidiscoveryv2.APIVersionDiscovery{Version: v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			if remote, ok := d.remoteResources[schema.GroupVersion{Group: g.name, Version: v}]; ok {
				vd.Resources = remoteResourceDiscovery(remote)
			}
			for _, res := range d.allResources() {
				if res.Group != g.name || res.Version != v {
					continue
				}
				vd.Resources = append(vd.Resources, resourceDiscovery(res))
			}
			sort.Slice(vd.Resources, func(i, j int) bool { return vd.Resources[i].Resource < vd.Resources[j].Resource })
			gd.Versions = append(gd.Versions, vd)
		}
		list.Items = append(list.Items, gd)
	}
	var obj runtime.Object = list
	if version == "v2beta1" {
		b := &apidiscoveryv2beta1.APIGroupDiscoveryList{}
		if err := convertViaJSON(list, b); err != nil {
			return nil, "", err
		}
		b.TypeMeta = metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2beta1"}
		obj = b
	}
	info, _ := serializerFor(mediaType)
	var buf bytes.Buffer
	if err := info.Serializer.Encode(obj, &buf); err != nil {
		return nil, "", fmt.Errorf("encode aggregated discovery: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	d.aggJSON[key], d.aggETag[key] = buf.Bytes(), etag
	return buf.Bytes(), etag, nil
}

func resourceDiscovery(r *registry.Resource) apidiscoveryv2.APIResourceDiscovery {
	scope := apidiscoveryv2.ScopeCluster
	if r.Namespaced {
		scope = apidiscoveryv2.ScopeNamespace
	}
	rd := apidiscoveryv2.APIResourceDiscovery{
		Resource:         r.Name,
		ResponseKind:     responseKind(r, r.GroupVersionKind()),
		Scope:            scope,
		SingularResource: r.SingularName,
		Verbs:            r.VerbList(),
		ShortNames:       r.ShortNames,
		Categories:       r.Categories,
	}
	for _, sub := range r.AllSubresources() {
		rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource:  sub.Name,
			ResponseKind: responseKind(r, sub.Kind),
			Verbs:        sub.Verbs,
		})
	}
	return rd
}

// responseKind names a kind as aggregated discovery does: group and version only
// when they differ from the resource's own.
func responseKind(r *registry.Resource, gvk schema.GroupVersionKind) *metav1.GroupVersionKind {
	if gvk.GroupVersion() == r.GroupVersion() {
		return &metav1.GroupVersionKind{Kind: gvk.Kind}
	}
	return &metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}
}

// writeJSON answers with obj in the negotiated encoding, JSON by default.
func writeJSON(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object) {
	writeNegotiated(w, r, code, obj)
}

func writeNegotiated(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object) {
	out, err := negotiate(r)
	if err != nil {
		info, _ := serializerFor(mediaJSON)
		out = output{info: info, mediaType: mediaJSON}
	}
	if out.mediaType == mediaProtobuf {
		if _, ok := obj.(interface{ ProtoMessage() }); !ok {
			info, _ := serializerFor(mediaJSON)
			out = output{info: info, mediaType: mediaJSON}
		}
	}
	writeObject(w, r, code, out, obj)
}

// convertViaJSON copies between types with the same JSON shape.
func convertViaJSON(in, out interface{}) error {
	data, err := jsonMarshal(in)
	if err != nil {
		return err
	}
	return jsonUnmarshal(data, out)
}

var _ = apis.Scheme
