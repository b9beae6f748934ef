// Package delegated lets the node's API hand its authentication and
// authorization decisions to the API server, as upstream's kubelet does with
// --authentication-token-webhook and --authorization-mode=Webhook: a bearer
// token is checked with a TokenReview, a request with a SubjectAccessReview.
// Both answers are cached for upstream's default times, so a scraper polling
// every few seconds costs the API server one review every few minutes.
package delegated
