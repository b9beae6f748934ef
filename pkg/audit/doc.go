// Package audit records what the API server was asked and what it answered, as
// kube-apiserver's audit log does: an audit.k8s.io/v1 Policy picks the level of
// each request (None, Metadata, Request, RequestResponse) and the stages to
// record, and a log backend writes each Event as one line of JSON.
package audit
