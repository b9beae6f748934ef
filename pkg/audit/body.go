package audit

import (
	"bytes"
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/minik8s/minik8s/pkg/apis"
)

// protoCodec reads protobuf bodies (what kubectl and client-go send) so the log
// shows them as JSON, as upstream's does.
var protoCodec = protobuf.NewSerializer(apis.Scheme, apis.Scheme)

const mediaProtobuf = "application/vnd.kubernetes.protobuf"

// loggable reports content types whose bodies can be logged.
func loggable(contentType string) bool {
	return isJSON(contentType) || mediaType(contentType) == mediaProtobuf
}

// bodyJSON returns a body as a JSON object, or nil if it is not one.
func bodyJSON(contentType string, body []byte) []byte {
	if mediaType(contentType) == mediaProtobuf {
		obj, gvk, err := protoCodec.Decode(body, nil, nil)
		if err != nil {
			return nil
		}
		obj.GetObjectKind().SetGroupVersionKind(*gvk)
		out, err := json.Marshal(obj)
		if err != nil {
			return nil
		}
		return out
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return nil
	}
	return body
}

func mediaType(contentType string) string {
	ct, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(ct)
}

func isJSON(contentType string) bool {
	ct := mediaType(contentType)
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}
