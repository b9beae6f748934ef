package validatingadmissionpolicy

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// vapCostBudget bounds the work one expression evaluation may do, as upstream's
// runtime budget for admission expressions.
const vapCostBudget = 10_000_000

// vapMaxMessageBytes bounds a messageExpression's result; longer messages fall back.
const vapMaxMessageBytes = 5 * 1024

var (
	vapEnvOnce sync.Once
	vapEnv     *cel.Env
	vapEnvErr  error
)

// vapCELEnv is the environment every policy expression compiles in: the request's
// variables, all dynamically typed, and the standard extension libraries.
func vapCELEnv() (*cel.Env, error) {
	vapEnvOnce.Do(func() {
		vapEnv, vapEnvErr = cel.NewEnv(
			cel.Variable("object", cel.DynType),
			cel.Variable("oldObject", cel.DynType),
			cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("params", cel.DynType),
			cel.Variable("namespaceObject", cel.DynType),
			cel.Variable("variables", cel.MapType(cel.StringType, cel.DynType)),
			cel.CrossTypeNumericComparisons(true),
			cel.DefaultUTCTimeZone(true),
			cel.OptionalTypes(),
			ext.Strings(ext.StringsVersion(2)),
			ext.Sets(),
			ext.Lists(),
			ext.Math(),
			ext.Encoders(),
			ext.TwoVarComprehensions(),
		)
		if vapEnvErr != nil {
			vapEnvErr = fmt.Errorf("build CEL environment: %w", vapEnvErr)
		}
	})
	return vapEnv, vapEnvErr
}

// vapCompile compiles one expression; want is the result type it must have
// (dynamically typed expressions are accepted and checked when evaluated).
func vapCompile(expr string, want *cel.Type) (cel.Program, error) {
	env, err := vapCELEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("compilation failed: %v", iss.Err())
	}
	if want != nil {
		out := ast.OutputType()
		if !out.IsExactType(cel.DynType) && !out.IsExactType(want) {
			return nil, fmt.Errorf("must evaluate to %s but got %s", want, out)
		}
	}
	prg, err := env.Program(ast, cel.CostLimit(vapCostBudget), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("program construction failed: %w", err)
	}
	return prg, nil
}

// vapActivation resolves the variables of one evaluation.
type vapActivation struct {
	object, oldObject, request, params, namespaceObject ref.Val
	variables                                           *vapVariables
}

func (a *vapActivation) ResolveName(name string) (any, bool) {
	switch name {
	case "object":
		return a.object, true
	case "oldObject":
		return a.oldObject, true
	case "request":
		return a.request, true
	case "params":
		return a.params, true
	case "namespaceObject":
		return a.namespaceObject, true
	case "variables":
		return a.variables, true
	}
	return nil, false
}

func (a *vapActivation) Parent() interpreter.Activation { return nil }

// vapEval runs prg against the activation.
func vapEval(ctx context.Context, prg cel.Program, act *vapActivation) (ref.Val, error) {
	out, _, err := prg.ContextEval(ctx, act)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// vapVariables is the `variables` map: each variable is evaluated on first use and
// remembered for the rest of the request's evaluation against one binding.
type vapVariables struct {
	ctx   context.Context
	pol   *vapPolicy
	act   *vapActivation
	vals  []ref.Val
	state []uint8 // 0 not evaluated, 1 evaluating, 2 done
}

func newVAPVariables(ctx context.Context, pol *vapPolicy, act *vapActivation) *vapVariables {
	return &vapVariables{ctx: ctx, pol: pol, act: act,
		vals: make([]ref.Val, len(pol.variables)), state: make([]uint8, len(pol.variables))}
}

func (v *vapVariables) value(i int) ref.Val {
	switch v.state[i] {
	case 2:
		return v.vals[i]
	case 1:
		return types.NewErr("variable %q refers to itself", v.pol.variables[i].name)
	}
	v.state[i] = 1
	vr := v.pol.variables[i]
	var out ref.Val
	if vr.err != nil {
		out = types.NewErr("variable %q: %v", vr.name, vr.err)
	} else if got, err := vapEval(v.ctx, vr.prg, v.act); err != nil {
		out = types.NewErr("variable %q evaluation failed: %v", vr.name, err)
	} else {
		out = got
	}
	v.vals[i], v.state[i] = out, 2
	return out
}

func (v *vapVariables) Find(key ref.Val) (ref.Val, bool) {
	s, ok := key.(types.String)
	if !ok {
		return types.ValOrErr(key, "no such overload"), true
	}
	i, ok := v.pol.varIndex[string(s)]
	if !ok {
		return nil, false
	}
	return v.value(i), true
}

func (v *vapVariables) Get(key ref.Val) ref.Val {
	out, found := v.Find(key)
	if !found {
		return types.NewErr("no such key: %v", key)
	}
	return out
}

func (v *vapVariables) Contains(key ref.Val) ref.Val {
	_, found := v.Find(key)
	return types.Bool(found)
}

func (v *vapVariables) Size() ref.Val { return types.Int(len(v.pol.variables)) }

func (v *vapVariables) Iterator() traits.Iterator {
	names := make([]string, len(v.pol.variables))
	for i, vr := range v.pol.variables {
		names[i] = vr.name
	}
	return types.NewStringList(types.DefaultTypeAdapter, names).(traits.Lister).Iterator()
}

func (v *vapVariables) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return nil, fmt.Errorf("variables cannot be converted to %v", typeDesc)
}

func (v *vapVariables) ConvertToType(typeVal ref.Type) ref.Val {
	if typeVal == types.MapType {
		return v
	}
	if typeVal == types.TypeType {
		return types.MapType
	}
	return types.NewErr("type conversion error from map to %q", typeVal.TypeName())
}

func (v *vapVariables) Equal(other ref.Val) ref.Val { return types.Bool(v == other) }

func (v *vapVariables) Type() ref.Type { return types.MapType }

func (v *vapVariables) Value() any { return v }

// vapMessage turns a messageExpression's result into a one-line message, or "".
func vapMessage(out ref.Val) string {
	s, ok := out.Value().(string)
	if !ok {
		return ""
	}
	s = strings.TrimSpace(s)
	if len(s) > vapMaxMessageBytes || strings.Contains(s, "\n") {
		return ""
	}
	return s
}
