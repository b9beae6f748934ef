package certificates

import (
	"context"
	"strings"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// MayUseSigner reports whether user may verb (approve, sign) the signer
// signerName: the resource "signers" of certificates.k8s.io named either
// signerName or its domain with "/*" (kubernetes.io/*), as upstream's
// certificate admission plugins ask. An authorizer that fails to decide
// counts as a refusal.
func MayUseSigner(ctx context.Context, authz authorizer.Authorizer, user *auth.User, verb, signerName string) bool {
	domain, _, _ := strings.Cut(signerName, "/")
	for _, name := range []string{signerName, domain + "/*"} {
		d, _, err := authz.Authorize(ctx, authorizer.Attributes{User: user, Verb: verb, IsResource: true,
			Group: "certificates.k8s.io", Version: "*", Resource: "signers", Name: name})
		if err == nil && d == authorizer.Allow {
			return true
		}
	}
	return false
}
