package expectations

import (
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestExpectations(t *testing.T) {
	type step func(e *Expectations, c *clock)
	create := func(n int) step { return func(e *Expectations, _ *clock) { e.ExpectCreations("rs", n) } }
	created := func(e *Expectations, _ *clock) { e.CreationObserved("rs") }
	del := func(keys ...string) step { return func(e *Expectations, _ *clock) { e.ExpectDeletions("rs", keys) } }
	deleted := func(k string) step { return func(e *Expectations, _ *clock) { e.DeletionObserved("rs", k) } }
	wait := func(d time.Duration) step { return func(_ *Expectations, c *clock) { c.t = c.t.Add(d) } }
	forget := func(e *Expectations, _ *clock) { e.Delete("rs") }
	cases := []struct {
		name  string
		steps []step
		want  bool
	}{
		{"a controller that never acted may act", nil, true},
		{"a controller waiting for its creations may not act", []step{create(3), created, created}, false},
		{"a controller that saw all its creations may act", []step{create(2), created, created}, true},
		{"a controller waiting for a deletion may not act", []step{del("ns/a", "ns/b"), deleted("ns/a")}, false},
		{"one deletion seen twice counts once", []step{del("ns/a", "ns/b"), deleted("ns/a"), deleted("ns/a")}, false},
		{"a controller that saw all its deletions may act", []step{del("ns/a", "ns/b"), deleted("ns/b"), deleted("ns/a")}, true},
		{"expectations expire after the TTL", []step{create(5), wait(DefaultTTL + time.Second)}, true},
		{"expectations hold until the TTL", []step{create(5), wait(DefaultTTL - time.Second)}, false},
		{"forgotten expectations let the controller act", []step{create(5), forget}, true},
		{"new expectations replace the old", []step{create(5), del("ns/a"), deleted("ns/a")}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1000, 0)}
			e := New(DefaultTTL, clk.now)
			for _, s := range c.steps {
				s(e, clk)
			}
			if got := e.Satisfied("rs"); got != c.want {
				t.Errorf("Satisfied = %v, want %v", got, c.want)
			}
		})
	}
}

func TestConcurrentObservations(t *testing.T) {
	e := New(DefaultTTL, time.Now)
	e.ExpectCreations("rs", 100)
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); e.CreationObserved("rs") }()
	}
	wg.Wait()
	if adds, _ := e.Pending("rs"); adds != 0 || !e.Satisfied("rs") {
		t.Errorf("pending adds %d", adds)
	}
}

func TestExpectTracksCreationsAndDeletionsTogether(t *testing.T) {
	e := New(DefaultTTL, time.Now)
	e.Expect("ns/ds", 1, []string{"ns/a"})
	if e.Satisfied("ns/ds") {
		t.Fatal("satisfied before anything was seen")
	}
	e.CreationObserved("ns/ds")
	if e.Satisfied("ns/ds") {
		t.Fatal("satisfied with a deletion still awaited")
	}
	e.DeletionObserved("ns/ds", "ns/a")
	if !e.Satisfied("ns/ds") {
		t.Error("unsatisfied after both were seen")
	}
}
