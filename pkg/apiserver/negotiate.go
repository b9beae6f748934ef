package apiserver

import (
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/apis"
)

// Media types the server speaks.
const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// Output targets other than the object itself (the "as" media type parameter).
const (
	targetTable       = "Table"
	targetPartial     = "PartialObjectMetadata"
	targetPartialList = "PartialObjectMetadataList"
)

// output is the negotiated form of a response.
type output struct {
	info      runtime.SerializerInfo
	mediaType string
	target    string // "", Table, PartialObjectMetadata or PartialObjectMetadataList
	pretty    bool
}

// contentType is the Content-Type header of the response.
func (o output) contentType() string { return o.mediaType }

func (o output) encoder() runtime.Encoder {
	if o.pretty && o.info.PrettySerializer != nil {
		return o.info.PrettySerializer
	}
	return o.info.Serializer
}

type acceptItem struct {
	mediaType string
	params    map[string]string
	q         float64
	order     int
}

func parseAccept(header string) []acceptItem {
	var items []acceptItem
	for i, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		items = append(items, acceptItem{mediaType: mt, params: params, q: q, order: i})
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].q > items[b].q })
	return items
}

// serializerFor finds the serializer for a media type.
func serializerFor(mediaType string) (runtime.SerializerInfo, bool) {
	for _, info := range apis.Codecs.SupportedMediaTypes() {
		if info.MediaType == mediaType {
			return info, true
		}
	}
	return runtime.SerializerInfo{}, false
}

// negotiate picks the response form from the Accept header. allowTargets lists the
// "as" conversions the endpoint can do.
func negotiate(r *http.Request, allowTargets ...string) (output, error) {
	return negotiateFor(r, false, allowTargets...)
}

// negotiateFor is negotiate for a resource; custom resources have no protobuf
// form, so for them protobuf is offered only for metadata-only targets and a
// client that also accepts JSON gets JSON, as upstream answers.
func negotiateFor(r *http.Request, custom bool, allowTargets ...string) (output, error) {
	accept := r.Header.Get("Accept")
	pretty := isPretty(r)
	if accept == "" {
		info, _ := serializerFor(mediaJSON)
		return output{info: info, mediaType: mediaJSON, pretty: pretty}, nil
	}
	for _, item := range parseAccept(accept) {
		mt := item.mediaType
		switch mt {
		case "*/*", "application/*":
			mt = mediaJSON
		case mediaJSON, mediaYAML, mediaProtobuf:
		default:
			continue
		}
		info, ok := serializerFor(mt)
		if !ok {
			continue
		}
		target := ""
		if as := item.params["as"]; as != "" {
			if item.params["g"] != "meta.k8s.io" || (item.params["v"] != "v1" && item.params["v"] != "v1beta1") {
				continue
			}
			if as == targetTable && item.params["v"] != "v1" {
				continue
			}
			if !contains(allowTargets, as) {
				continue
			}
			if as == targetTable && mt == mediaProtobuf {
				continue
			}
			target = as
		}
		if custom && mt == mediaProtobuf && (target == "" || target == targetTable) {
			continue
		}
		return output{info: info, mediaType: mt, target: target, pretty: pretty}, nil
	}
	return output{}, statusError(http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable,
		fmt.Sprintf("only the following media types are accepted: %s", strings.Join([]string{mediaJSON, mediaYAML, mediaProtobuf}, ", ")))
}

// isPretty: ?pretty=true, or a command-line client that did not say, as upstream
// indents JSON for curl and wget.
func isPretty(r *http.Request) bool {
	if v := r.URL.Query().Get("pretty"); v != "" {
		return isTrue(v)
	}
	ua := r.UserAgent()
	return strings.HasPrefix(ua, "curl") || strings.HasPrefix(ua, "Wget")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// inputSerializer finds the decoder for a request's Content-Type.
func inputSerializer(r *http.Request) (runtime.SerializerInfo, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = mediaJSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return runtime.SerializerInfo{}, newUnsupportedMediaType(ct, mediaJSON, mediaYAML, mediaProtobuf)
	}
	info, ok := serializerFor(mt)
	if !ok {
		return runtime.SerializerInfo{}, newUnsupportedMediaType(mt, mediaJSON, mediaYAML, mediaProtobuf)
	}
	return info, nil
}

func newUnsupportedMediaType(got string, accepted ...string) error {
	return statusError(http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType,
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s", strings.Join(accepted, ", ")))
}
