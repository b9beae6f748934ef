package apiserver

import (
	"mime"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/apis"
)

// queryOptions are the options of a write in its query: CreateOptions,
// UpdateOptions or PatchOptions by the request's verb.
type queryOptions struct {
	dryRun          []string
	fieldManager    string
	fieldValidation string
	force           *bool
}

// options decodes and checks the write options of the query once per request,
// as upstream's handlers do: with the parameter codec (a query that does not
// decode is a 400) and meta/v1's validation (invalid options are a 422 of
// their kind: an unknown dryRun or fieldValidation, a fieldManager too long,
// unprintable or, for apply, missing, force outside apply).
func (q *request) options() (queryOptions, error) {
	if q.opts == nil {
		o, err := decodeQueryOptions(q.info.Verb, q.query, q.r.Header.Get("Content-Type"))
		q.opts = &parsedOptions{o, err}
	}
	return q.opts.options, q.opts.err
}

// parsedOptions caches options' answer.
type parsedOptions struct {
	options queryOptions
	err     error
}

func decodeQueryOptions(verb string, query map[string][]string, contentType string) (queryOptions, error) {
	var (
		o    queryOptions
		kind string
		errs field.ErrorList
		err  error
	)
	switch verb {
	case "patch":
		opts := &metav1.PatchOptions{}
		err = apis.ParameterCodec.DecodeParameters(query, metav1.SchemeGroupVersion, opts)
		pt, _, perr := mime.ParseMediaType(contentType)
		if perr != nil {
			pt = contentType
		}
		kind, errs = "PatchOptions", validation.ValidatePatchOptions(opts, types.PatchType(pt))
		o = queryOptions{opts.DryRun, opts.FieldManager, opts.FieldValidation, opts.Force}
	case "update":
		opts := &metav1.UpdateOptions{}
		err = apis.ParameterCodec.DecodeParameters(query, metav1.SchemeGroupVersion, opts)
		kind, errs = "UpdateOptions", validation.ValidateUpdateOptions(opts)
		o = queryOptions{dryRun: opts.DryRun, fieldManager: opts.FieldManager, fieldValidation: opts.FieldValidation}
	default: // create, of objects and of subresources (bindings, evictions, tokens)
		opts := &metav1.CreateOptions{}
		err = apis.ParameterCodec.DecodeParameters(query, metav1.SchemeGroupVersion, opts)
		kind, errs = "CreateOptions", validation.ValidateCreateOptions(opts)
		o = queryOptions{dryRun: opts.DryRun, fieldManager: opts.FieldManager, fieldValidation: opts.FieldValidation}
	}
	if err != nil {
		return queryOptions{}, apierrors.NewBadRequest(err.Error())
	}
	if len(errs) > 0 {
		return queryOptions{}, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: kind}, "", errs)
	}
	return o, nil
}

// fieldValidation is the fieldValidation option: Strict, Warn (the default) or Ignore.
func (q *request) fieldValidation() (string, error) {
	o, err := q.options()
	if err != nil {
		return "", err
	}
	if o.fieldValidation == "" {
		return metav1.FieldValidationWarn, nil
	}
	return o.fieldValidation, nil
}

// dryRun reports whether the request asks for dryRun=All.
func (q *request) dryRun() (bool, error) {
	o, err := q.options()
	return len(o.dryRun) > 0, err
}

// queryBool reads a boolean query parameter as upstream's parameter codec
// does: present and neither "0" nor "false" (in any case) is true.
func queryBool(values []string) bool {
	if len(values) == 0 {
		return false
	}
	v := values[0]
	return v != "0" && !strings.EqualFold(v, "false")
}
