package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/minik8s/minik8s/pkg/admission"
)

// maxResponseBytes bounds a webhook's answer.
const maxResponseBytes = 3 * 1024 * 1024

// callError is a webhook that could not be called or answered wrongly: its
// failurePolicy decides.
type callError struct {
	hook   string
	reason error
}

func (e *callError) Error() string {
	return fmt.Sprintf("failed calling webhook %q: %v", e.hook, e.reason)
}

func (e *callError) Unwrap() error { return e.reason }

// denied is upstream's refusal of a request a webhook did not allow: its
// status, at least 400, with the message prefixed by the webhook's name.
func denied(hook string, result *metav1.Status) error {
	st := metav1.Status{Status: metav1.StatusFailure}
	if result != nil {
		st = *result.DeepCopy()
	}
	if st.Code < http.StatusBadRequest {
		st.Code = http.StatusBadRequest
	}
	if st.Status == "" || st.Status == metav1.StatusSuccess {
		st.Status = metav1.StatusFailure
	}
	by := fmt.Sprintf("admission webhook %q denied the request", hook)
	switch {
	case st.Message != "":
		st.Message = by + ": " + st.Message
	case st.Reason != "":
		st.Message = by + ": " + string(st.Reason)
	default:
		st.Message = by + " without explanation"
	}
	return &apierrors.StatusError{ErrStatus: st}
}

// dryRunUnsupported refuses a dry-run request a webhook with side effects matches.
func dryRunUnsupported(hook string) error {
	return apierrors.NewBadRequest(fmt.Sprintf("admission webhook %q does not support dry run", hook))
}

// checkDryRun refuses a dry run for a hook that may have side effects.
func checkDryRun(h *hook, a *admission.Attributes) error {
	if !a.DryRun {
		return nil
	}
	if !h.sideEffectsSet {
		return &callError{hook: h.name, reason: errors.New("Webhook SideEffects is nil")}
	}
	if !h.dryRunOK {
		return dryRunUnsupported(h.name)
	}
	return nil
}

// call sends the review of a to h and returns its checked answer.
func call(ctx context.Context, h *hook, a *admission.Attributes, mutating bool, object, old []byte) (*response, error) {
	fail := func(format string, args ...any) error {
		return &callError{hook: h.name, reason: fmt.Errorf(format, args...)}
	}
	if h.client == nil {
		return nil, fail("could not get REST client: no client")
	}
	if h.client.err != nil {
		return nil, fail("could not get REST client: %w", h.client.err)
	}
	if h.reviewVersion == "" {
		return nil, fail("could not create admission objects: webhook does not accept known AdmissionReview versions %v; this server speaks v1 and v1beta1", h.reviewAsked)
	}
	uid := uuid.NewUUID()
	body, err := reviewBody(h.reviewVersion, newRequest(uid, a, object, old))
	if err != nil {
		return nil, fail("could not create admission objects: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	sep := "?"
	if strings.Contains(h.client.url, "?") {
		sep = "&"
	}
	u := h.client.url + sep + "timeout=" + strconv.Itoa(int((h.timeout+999_999_999)/1e9)) + "s"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fail("failed to call webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.http.Do(req)
	if err != nil {
		return nil, fail("failed to call webhook: %w", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fail("failed to call webhook: read response: %w", err)
	}
	if len(got) > maxResponseBytes {
		return nil, fail("failed to call webhook: response larger than %d bytes", maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fail("failed to call webhook: the server responded with status %d: %s", resp.StatusCode, strings.TrimSpace(string(got)))
	}
	r, err := parseResponse(h.reviewVersion, uid, mutating, got)
	if err != nil {
		return nil, fail("received invalid webhook response: %w", err)
	}
	return r, nil
}

// record passes a webhook's warnings to the client and its audit annotations,
// keyed by the webhook's name, to the audit event.
func record(h *hook, a *admission.Attributes, r *response) {
	for k, v := range r.auditAnnotations {
		a.AddAnnotation(h.name+"/"+k, v)
	}
	for _, w := range r.warnings {
		if w = sanitizeWarning(w); w != "" {
			a.AddWarning(w)
		}
	}
}

// sanitizeWarning makes a warning fit a header: one line of printable text.
func sanitizeWarning(w string) string {
	w = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, w)
	w = strings.TrimSpace(w)
	if len(w) > 4096 {
		w = w[:4096]
	}
	return w
}
