package apiserver

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// undecodable words a body's decoding failure as upstream does: it names the kind
// and version the body declared when they could be read, and otherwise says the
// object is unrecognized, quoting the start of the body.
func undecodable(want schema.GroupVersionKind, read *schema.GroupVersionKind, body []byte, err error) error {
	if read != nil && read.Kind != "" {
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", read.Kind, read.Version, want.Kind, err))
	}
	return apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): %v (%s)", want.Kind, err, bodySummary(body, 30)))
}

// bodySummary is the start of a body for an error message: as text when it looks
// like a JSON object, in hex otherwise.
func bodySummary(body []byte, limit int) string {
	if len(body) == 0 {
		return "<empty>"
	}
	short, more := body, ""
	if len(body) > limit {
		short, more = body[:limit], " ..."
	}
	if body[0] == '{' {
		return string(short) + more
	}
	return hex.EncodeToString(short) + more
}

// noConversion is the error upstream's decoder gives when a body holds another
// kind than the endpoint's: it decodes the body's kind, then finds no conversion
// from it to the endpoint's internal type.
func noConversion(decoded runtime.Object, want schema.GroupVersionKind) error {
	from := reflect.TypeOf(decoded)
	if from.Kind() == reflect.Pointer {
		from = from.Elem()
	}
	return fmt.Errorf("converting (%s) to (%s.%s): unknown conversion", from, internalPackage(want.Group), want.Kind)
}

// internalPackage is the Go package upstream keeps a group's internal types in:
// its short name, with the exceptions below.
func internalPackage(group string) string {
	switch group {
	case "", "events.k8s.io":
		return "core"
	case "internal.apiserver.k8s.io":
		return "apiserverinternal"
	}
	name, _, _ := strings.Cut(group, ".")
	return name
}

// decodeBody decodes a subresource's body (a Scale, Binding, TokenRequest), in
// the request's Content-Type, into into. A body that does not decode, or that
// holds another kind, is upstream's 400: it must never pass as an empty object.
func decodeBody(r *http.Request, body []byte, gvk schema.GroupVersionKind, into runtime.Object) error {
	info, err := inputSerializer(r)
	if err != nil {
		return err
	}
	obj, actual, err := info.Serializer.Decode(body, &gvk, into)
	if err != nil {
		return undecodable(gvk, actual, body, err)
	}
	if obj != into {
		return undecodable(gvk, actual, body, noConversion(obj, gvk))
	}
	return nil
}
