package openapi

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// discoveryRoutes are the paths of /api, /apis, each group and group version,
// and /version, each in its own v3 document as upstream has them.
func discoveryRoutes(gvs []schema.GroupVersion) []*route {
	get := func(path, doc, id, tag, description, schema string, media []string) *route {
		return &route{path: path, doc: doc, ops: []*operation{{
			method: "get", id: id, description: description, tag: tag,
			consumes: media, produces: media,
			responses: []response{ok(schema), unauthorized},
		}}}
	}
	out := []*route{
		get("/api/", "api", "getCoreAPIVersions", "core", "get available API versions", modelNameOf(metav1.APIVersions{}), mediaObject),
		get("/apis/", "apis", "getAPIVersions", "apis", "get available API versions", modelNameOf(metav1.APIGroupList{}), mediaObject),
		get("/version/", "version", "getCodeVersion", "version", "get the version information for this server", modelNameOf(version.Info{}), mediaVersion),
	}
	resources := modelNameOf(metav1.APIResourceList{})
	groups := map[string]bool{}
	for _, gv := range gvs {
		tag := groupTag(gv.Group)
		id := "get" + upperFirst(tag) + upperFirst(gv.Version) + "APIResources"
		if gv.Group == "" {
			out = append(out, get("/api/"+gv.Version+"/", "api/"+gv.Version, id, tag+"_"+gv.Version, "get available resources", resources, mediaObject))
			continue
		}
		doc := "apis/" + gv.Group + "/" + gv.Version
		out = append(out, get("/"+doc+"/", doc, id, tag+"_"+gv.Version, "get available resources", resources, mediaObject))
		if !groups[gv.Group] {
			groups[gv.Group] = true
			out = append(out, get("/apis/"+gv.Group+"/", "apis/"+gv.Group, "get"+upperFirst(tag)+"APIGroup", tag,
				"get information of a group", modelNameOf(metav1.APIGroup{}), mediaObject))
		}
	}
	return out
}
