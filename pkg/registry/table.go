package registry

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Column descriptions shared by most tables, from the ObjectMeta field docs.
var (
	NameDescription              = metav1.ObjectMeta{}.SwaggerDoc()["name"]
	CreationTimestampDescription = metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]
)

// Table is a TableConvertor made of its columns and a function that prints a row.
type Table struct {
	Cols  []metav1.TableColumnDefinition
	Cells func(obj runtime.Object) []interface{}
}

var _ TableConvertor = &Table{}

// Columns implements TableConvertor.
func (t *Table) Columns() []metav1.TableColumnDefinition { return t.Cols }

// Row implements TableConvertor.
func (t *Table) Row(obj runtime.Object) ([]interface{}, error) { return t.Cells(obj), nil }

// NameColumn and AgeColumn are the columns nearly every table starts and ends with.
var (
	NameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: NameDescription}
	AgeColumn  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: CreationTimestampDescription}
)

// Col is a shorthand for a column; priority 1 shows only with -o wide.
func Col(name, typ, desc string, priority int32) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: desc, Priority: priority}
}

// Age prints how long ago t was, as kubectl's AGE column does.
func Age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}
