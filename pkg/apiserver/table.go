package apiserver

import (
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/registry"
)

// transform turns a response into the Table or PartialObjectMetadata form asked for.
func (s *Server) transform(q *request, out output, obj runtime.Object) (runtime.Object, error) {
	isList := meta.IsListType(obj)
	switch out.target {
	case targetTable:
		var items []runtime.Object
		if isList {
			var err error
			if items, err = meta.ExtractList(obj); err != nil {
				return nil, err
			}
		} else {
			items = []runtime.Object{obj}
		}
		t, err := s.table(q, items, !isTrue(q.query.Get("noHeaders")))
		if err != nil {
			return nil, err
		}
		if isList {
			if lm, err := meta.ListAccessor(obj); err == nil {
				t.ResourceVersion = lm.GetResourceVersion()
				t.Continue = lm.GetContinue()
				t.RemainingItemCount = lm.GetRemainingItemCount()
			}
		} else if m, ok := obj.(metav1.Object); ok {
			t.ResourceVersion = m.GetResourceVersion()
		}
		return t, nil
	case targetPartial:
		if isList {
			return nil, notAcceptableTarget(out.target)
		}
		return partialObjectMetadata(obj), nil
	case targetPartialList:
		if !isList {
			return nil, notAcceptableTarget(out.target)
		}
		items, err := meta.ExtractList(obj)
		if err != nil {
			return nil, err
		}
		list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"}}
		if lm, err := meta.ListAccessor(obj); err == nil {
			list.ResourceVersion = lm.GetResourceVersion()
			list.Continue = lm.GetContinue()
			list.RemainingItemCount = lm.GetRemainingItemCount()
		}
		for _, it := range items {
			p := partialObjectMetadata(it)
			p.TypeMeta = metav1.TypeMeta{}
			list.Items = append(list.Items, *p)
		}
		return list, nil
	}
	return obj, nil
}

func notAcceptableTarget(target string) error {
	return statusError(406, metav1.StatusReasonNotAcceptable, fmt.Sprintf("only the following media types are accepted: application/json;as=%s;g=meta.k8s.io;v=v1", target))
}

// partialObjectMetadata keeps only an object's metadata.
func partialObjectMetadata(obj runtime.Object) *metav1.PartialObjectMetadata {
	p := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"}}
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if om, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			p.ObjectMeta = *om
		}
	} else if om, ok := unstructuredMeta(obj); ok {
		p.ObjectMeta = om
	}
	return p
}

// table prints objects with the resource's columns.
func (s *Server) table(q *request, objs []runtime.Object, withColumns bool) (*metav1.Table, error) {
	conv := q.res.Table
	if conv == nil {
		conv = defaultTable{}
	}
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}}
	if withColumns {
		t.ColumnDefinitions = conv.Columns()
	}
	include := q.query.Get("includeObject")
	switch metav1.IncludeObjectPolicy(include) {
	case "", metav1.IncludeMetadata, metav1.IncludeObject, metav1.IncludeNone:
	default:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("includeObject: unsupported value %q", include))
	}
	gvk := q.res.GroupVersionKind()
	for _, obj := range objs {
		cells, err := conv.Row(obj)
		if err != nil {
			return nil, fmt.Errorf("print %s: %w", q.res.Name, err)
		}
		row := metav1.TableRow{Cells: cells}
		switch metav1.IncludeObjectPolicy(include) {
		case metav1.IncludeObject:
			o := obj
			if o.GetObjectKind().GroupVersionKind().Empty() {
				o = o.DeepCopyObject()
				o.GetObjectKind().SetGroupVersionKind(gvk)
			}
			row.Object.Object = o
		case metav1.IncludeNone:
		default:
			row.Object.Object = partialObjectMetadata(obj)
		}
		t.Rows = append(t.Rows, row)
	}
	if t.Rows == nil {
		t.Rows = []metav1.TableRow{}
	}
	return t, nil
}

// defaultTable prints name and creation time, as upstream does for types without
// their own printer.
type defaultTable struct{}

var _ registry.TableConvertor = defaultTable{}

func (defaultTable) Columns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: registry.NameDescription},
		{Name: "Created At", Type: "date", Description: registry.CreationTimestampDescription},
	}
}

func (defaultTable) Row(obj runtime.Object) ([]interface{}, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return []interface{}{m.GetName(), m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339)}, nil
}
