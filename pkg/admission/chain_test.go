package admission

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// recorder is a plugin that notes each call in a shared log.
type recorder struct {
	Handler
	name      string
	log       *[]string
	resources []string // nil: every resource
	refuse    bool
	selected  int
}

func (r *recorder) HandlesResource(t Target) bool {
	r.selected++
	if r.resources == nil {
		return true
	}
	for _, res := range r.resources {
		if res == t.Resource.Resource {
			return true
		}
	}
	return false
}

type mutator struct{ *recorder }

func (m mutator) Admit(_ context.Context, a *Attributes) error {
	*m.log = append(*m.log, "admit:"+m.name)
	if m.refuse {
		return errors.New(m.name + " says no")
	}
	return nil
}

type validator struct{ *recorder }

func (v validator) Validate(_ context.Context, a *Attributes) error {
	*v.log = append(*v.log, "validate:"+v.name)
	return nil
}

type both struct{ *recorder }

func (b both) Admit(ctx context.Context, a *Attributes) error { return mutator(b).Admit(ctx, a) }
func (b both) Validate(ctx context.Context, a *Attributes) error {
	return validator(b).Validate(ctx, a)
}

func podAttrs(op Operation) *Attributes {
	return &Attributes{Operation: op, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Namespaced: true}
}

func TestTheChainRunsMutatorsThenValidatorsEachInListOrder(t *testing.T) {
	var log []string
	rec := func(name string, ops ...Operation) *recorder {
		return &recorder{Handler: NewHandler(ops...), name: name, log: &log}
	}
	c := NewChain(
		Named{"First", validator{rec("first", Create)}},
		Named{"Second", both{rec("second", Create, Update)}},
		Named{"Third", mutator{rec("third", Create)}},
		Named{"UpdatesOnly", mutator{rec("updates", Update)}},
	)
	a := podAttrs(Create)
	if err := c.Admit(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	want := "admit:second admit:third validate:first validate:second"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("calls %q, want %q", got, want)
	}
	if names := strings.Join(c.Names(), ","); names != "First,Second,Third,UpdatesOnly" {
		t.Errorf("names %s", names)
	}
}

func TestTheFirstRefusalStopsThePhase(t *testing.T) {
	var log []string
	c := NewChain(
		Named{"No", mutator{&recorder{Handler: NewHandler(Delete), name: "no", log: &log, refuse: true}}},
		Named{"Later", mutator{&recorder{Handler: NewHandler(Delete), name: "later", log: &log}}},
	)
	err := c.Admit(context.Background(), podAttrs(Delete))
	if err == nil || err.Error() != "no says no" || len(log) != 1 {
		t.Fatalf("err %v, calls %v", err, log)
	}
}

func TestPluginsAreSelectedOncePerResourceAndOperation(t *testing.T) {
	var log []string
	pods := &recorder{Handler: NewHandler(Create, Update), name: "pods", log: &log, resources: []string{"pods"}}
	c := NewChain(Named{"Pods", mutator{pods}})
	for i := 0; i < 5; i++ {
		if err := c.Admit(context.Background(), podAttrs(Create)); err != nil {
			t.Fatal(err)
		}
	}
	cm := &Attributes{Operation: Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Namespaced: true}
	for i := 0; i < 5; i++ {
		if err := c.Admit(context.Background(), cm); err != nil {
			t.Fatal(err)
		}
	}
	if len(log) != 5 {
		t.Errorf("the plugin ran %d times, want 5 (pods only)", len(log))
	}
	if pods.selected != 2 {
		t.Errorf("the plugin was asked about resources %d times, want 2 (pods and configmaps, once each)", pods.selected)
	}
	if c.Mutates(Target{Resource: schema.GroupResource{Resource: "configmaps"}, Namespaced: true}, Create) {
		t.Error("no plugin mutates configmaps")
	}
	if !c.Mutates(Target{Resource: schema.GroupResource{Resource: "pods"}, Namespaced: true}, Update) {
		t.Error("the plugin mutates pod updates")
	}
}

func TestANilChainAdmitsEverything(t *testing.T) {
	var c *Chain
	if c.Admit(context.Background(), podAttrs(Create)) != nil || c.Validate(context.Background(), podAttrs(Create)) != nil || c.Mutates(Target{}, Create) {
		t.Error("a nil chain should admit everything")
	}
}

func TestForbiddenNamesTheObjectAsUpstream(t *testing.T) {
	cases := []struct {
		name string
		a    Attributes
		want string
	}{
		{"the request's name", Attributes{Name: "web"}, `pods "web" is forbidden: no`},
		{"no name at all", Attributes{}, `pods "Unknown" is forbidden: no`},
	}
	for _, c := range cases {
		c.a.Resource = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
		if got := c.a.Forbidden(errors.New("no")).Error(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestWarningsAreGivenOnce(t *testing.T) {
	var w []string
	a := &Attributes{Warnings: &w}
	a.AddWarning("careful")
	a.AddWarning("careful")
	(&Attributes{}).AddWarning("dropped")
	if len(w) != 1 {
		t.Errorf("warnings %v", w)
	}
}
