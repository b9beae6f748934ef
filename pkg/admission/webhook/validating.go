package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Validate calls the matching validating webhooks in parallel; the first
// refusal in the configurations' order is returned.
func (d *Dispatcher) Validate(ctx context.Context, a *admission.Attributes) error {
	hooks := d.matching(a).validating
	if len(hooks) == 0 {
		return nil
	}
	r := &request{a: a, objects: d.cfg.Objects}
	type outcome struct {
		idx  int
		h    *hook
		resp *response
		err  error
	}
	var calls []outcome
	for i, h := range hooks {
		ok, err := r.shouldCall(ctx, h)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := checkDryRun(h, a); err != nil {
			var ce *callError
			if errors.As(err, &ce) && h.failOpen {
				continue
			}
			if errors.As(err, &ce) {
				return apierrors.NewInternalError(err)
			}
			return err
		}
		calls = append(calls, outcome{idx: i, h: h})
	}
	if len(calls) == 0 {
		return nil
	}
	object, err := objectJSON(a.Object, a.Kind)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("encode object for webhooks: %w", err))
	}
	old, err := objectJSON(a.OldObject, a.Kind)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("encode old object for webhooks: %w", err))
	}
	if len(calls) == 1 {
		calls[0].resp, calls[0].err = call(ctx, calls[0].h, a, false, object, old)
	} else {
		var wg sync.WaitGroup
		for i := range calls {
			wg.Add(1)
			go func(c *outcome) {
				defer wg.Done()
				c.resp, c.err = call(ctx, c.h, a, false, object, old)
			}(&calls[i])
		}
		wg.Wait()
	}
	// Warnings and annotations are recorded here, not in the goroutines:
	// the attributes are not safe for concurrent use.
	var first error
	for _, c := range calls {
		if c.err == nil {
			record(c.h, a, c.resp)
			if !c.resp.allowed && first == nil {
				first = denied(c.h.name, c.resp.result)
			}
			continue
		}
		if c.h.failOpen {
			d.log.Warn("failed calling webhook, failing open", "webhook", c.h.name, "err", c.err)
			a.AddAnnotation(fmt.Sprintf("%sround_0_index_%d", failedOpenValidationPrefix, c.idx), c.h.name)
			continue
		}
		if first == nil {
			d.log.Warn("failed calling webhook, failing closed", "webhook", c.h.name, "err", c.err)
			first = apierrors.NewInternalError(c.err)
		}
	}
	return first
}
