package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ctxT is a context that ends with the test or after a minute.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func want(out, s string) error {
	if !strings.Contains(out, s) {
		return errf("output lacks %q:\n%s", s, out)
	}
	return nil
}

func errf(format string, args ...interface{}) error { return fmt.Errorf(format, args...) }
