package admissiontest

import (
	"context"
	"errors"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Authorizer allows the resource requests it lists, keyed "verb
// group/resource name" ("approve certificates.k8s.io/signers example.com/*"),
// and has no opinion on anything else. Failing makes every answer an error.
type Authorizer struct {
	Allowed map[string]bool
	Failing bool
	// Asked records every key asked, in order.
	Asked []string
}

var _ authorizer.Authorizer = &Authorizer{}

// Authorize implements authorizer.Authorizer.
func (z *Authorizer) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	key := a.Verb + " " + a.Group + "/" + a.Resource + " " + a.Name
	z.Asked = append(z.Asked, key)
	if z.Failing {
		return authorizer.NoOpinion, "", errors.New("authorizer failed")
	}
	if a.IsResource && z.Allowed[key] {
		return authorizer.Allow, "", nil
	}
	return authorizer.NoOpinion, "", nil
}
