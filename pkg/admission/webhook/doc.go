// Package webhook is what upstream's MutatingAdmissionWebhook and
// ValidatingAdmissionWebhook plugins share: the webhook configurations read
// from the storage cache and compiled once per change (source.go), the rules
// matched once per resource and operation (rules.go, snapshot.go), the
// selectors and CEL matchConditions (match.go), HTTPS clients kept per client
// configuration (client.go, resolve.go), the AdmissionReview sent and read
// (review.go), and the two dispatchers (mutating.go, validating.go).
package webhook
