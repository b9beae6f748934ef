package apiextensions

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/jsonpath"

	"github.com/minik8s/minik8s/pkg/registry"
)

// crTable prints a custom resource's additionalPrinterColumns.
type crTable struct {
	cols  []metav1.TableColumnDefinition
	paths []string
}

var _ registry.TableConvertor = &crTable{}

// Columns implements registry.TableConvertor.
func (t *crTable) Columns() []metav1.TableColumnDefinition { return t.cols }

// Row implements registry.TableConvertor.
func (t *crTable) Row(obj runtime.Object) ([]interface{}, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("expected an unstructured object, got %T", obj)
	}
	cells := []interface{}{u.GetName()}
	for i, p := range t.paths {
		cells = append(cells, cell(u.Object, p, t.cols[i+1].Type))
	}
	return cells, nil
}

// cell evaluates one column's JSON path; a missing value prints as nil (<none>).
func cell(obj map[string]interface{}, path, typ string) interface{} {
	jp := jsonpath.New("column").AllowMissingKeys(true)
	if err := jp.Parse(fmt.Sprintf("{%s}", path)); err != nil {
		return nil
	}
	results, err := jp.FindResults(obj)
	if err != nil || len(results) == 0 || len(results[0]) == 0 {
		return nil
	}
	if len(results[0]) > 1 {
		var buf bytes.Buffer
		var parts []string
		for _, r := range results[0] {
			parts = append(parts, fmt.Sprint(r.Interface()))
		}
		buf.WriteString(strings.Join(parts, ","))
		return buf.String()
	}
	v := results[0][0]
	if v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
	}
	val := v.Interface()
	switch typ {
	case "date":
		if s, ok := val.(string); ok {
			if ts, err := time.Parse(time.RFC3339, s); err == nil {
				return registry.Age(metav1.NewTime(ts))
			}
		}
		return val
	case "integer":
		switch n := val.(type) {
		case int64, int32, int:
			return n
		case float64:
			return int64(n)
		}
		return nil
	case "number":
		switch n := val.(type) {
		case int64:
			return float64(n)
		case float64:
			return n
		}
		return nil
	case "boolean":
		if b, ok := val.(bool); ok {
			return b
		}
		return nil
	case "string":
		if s, ok := val.(string); ok {
			return s
		}
		return fmt.Sprint(val)
	}
	switch val.(type) {
	case map[string]interface{}, []interface{}:
		return fmt.Sprint(val)
	}
	return val
}
