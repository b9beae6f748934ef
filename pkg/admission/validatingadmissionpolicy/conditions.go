package validatingadmissionpolicy

import (
	"context"
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Condition is one compiled matchCondition, in the CEL environment policies
// use. Admission webhooks share it so both read CEL the same way.
type Condition struct {
	Name string
	prg  cel.Program
	err  error
}

// CompileCondition compiles a matchCondition; a compile error is kept and
// reported when the condition is evaluated, as upstream does.
func CompileCondition(name, expr string) Condition {
	e := compileVAPExpr(name, expr, cel.BoolType)
	return Condition{Name: name, prg: e.prg, err: e.err}
}

// Err is the condition's compile error, if any.
func (c Condition) Err() error { return c.err }

// ConditionInput is the variables of one request, converted once for every
// condition evaluated against it.
type ConditionInput struct{ act vapActivation }

// NewConditionInput converts the request's objects (either may be nil) and
// its AdmissionRequest, given as a JSON-like map, for CEL.
func NewConditionInput(object, oldObject runtime.Object, gvk schema.GroupVersionKind, request map[string]any) (*ConditionInput, error) {
	obj, err := vapObjectValue(object, gvk)
	if err != nil {
		return nil, err
	}
	old, err := vapObjectValue(oldObject, gvk)
	if err != nil {
		return nil, err
	}
	return &ConditionInput{act: vapActivation{object: obj, oldObject: old,
		request: types.DefaultTypeAdapter.NativeToValue(request), params: types.NullValue, namespaceObject: types.NullValue,
		variables: &vapVariables{ctx: context.Background(), pol: &vapPolicy{}}}}, nil
}

// Eval evaluates the condition against in.
func (c Condition) Eval(ctx context.Context, in *ConditionInput) (bool, error) {
	if c.err != nil {
		return false, fmt.Errorf("matchCondition %q: %v", c.Name, c.err)
	}
	out, err := vapEval(ctx, c.prg, &in.act)
	if err != nil {
		return false, fmt.Errorf("matchCondition %q: %v", c.Name, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("matchCondition %q: must evaluate to bool", c.Name)
	}
	return bool(b), nil
}
