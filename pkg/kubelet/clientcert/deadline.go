package clientcert

import (
	"math/rand/v2"
	"time"
)

// RotationDeadline is when a certificate valid from notBefore to notAfter
// should be replaced: after 70% of its lifetime plus up to 20% more, spread
// by jitter (in [0, 1)) so that nodes started together do not all ask at once.
func RotationDeadline(notBefore, notAfter time.Time, jitter float64) time.Time {
	total := notAfter.Sub(notBefore)
	if total <= 0 {
		return notBefore
	}
	jitter = min(max(jitter, 0), 1)
	// Whole-number arithmetic for the fixed 70%, so the deadline is exact.
	return notBefore.Add(total*7/10 + time.Duration(float64(total*2/10)*jitter))
}

// RandomJitter is the jitter of real nodes.
func RandomJitter() float64 { return rand.Float64() }
